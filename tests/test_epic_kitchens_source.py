# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""The EPIC-Kitchens-100 source reader: generated annotation files (the real column layout) and video folders become
`SourceData` with `verb` and `noun` label sets; bad lines are one-line errors naming file and line."""

import csv

import pytest

from modeling_dear.data.sources.base import SourceInputError
from modeling_dear.data.sources.epic_kitchens import read_epic_kitchens

HEADER = (
    "narration_id,participant_id,video_id,narration_timestamp,start_timestamp,stop_timestamp,start_frame,stop_frame,"
    "narration,verb,verb_class,noun,noun_class,all_nouns,all_noun_classes"
).split(",")
TEST_HEADER = "narration_id,participant_id,video_id,start_timestamp,stop_timestamp,start_frame,stop_frame".split(",")


def write_csv(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def segment(narration_id, video_id, start, stop, verb, noun, frames=(1, 60)):
    participant = video_id.split("_")[0]
    return [
        narration_id, participant, video_id, start, start, stop, frames[0], frames[1],
        "take cup", "take", verb, "cup", noun, "['cup']", f"[{noun}]",
    ]  # fmt: skip


@pytest.fixture
def epic_tree(tmp_path):
    annotations, videos = tmp_path / "annotations", tmp_path / "videos"
    annotations.mkdir()
    write_csv(annotations / "EPIC_100_verb_classes.csv", ["id", "key", "instances", "category"],
              [[0, "take", "['take']", "retrieve"], [1, "put", "['put']", "leave"], [2, "open", "['open']", "access"]])  # fmt: skip
    write_csv(annotations / "EPIC_100_noun_classes.csv", ["id", "key", "instances", "category"],
              [[0, "tap", "['tap']", "appliances"], [1, "cup", "['cup']", "cutlery"]])  # fmt: skip
    write_csv(
        annotations / "EPIC_100_train.csv",
        HEADER,
        [
            segment("P01_01_0", "P01_01", "00:00:01.00", "00:00:02.50", 0, 1),
            segment("P01_01_1", "P01_01", "00:00:02.00", "00:01:03.25", 2, 0, frames=(121, 3795)),
            segment("P02_03_0", "P02_03", "00:00:00.50", "00:00:01.00", 1, 1),
        ],
    )
    write_csv(
        annotations / "EPIC_100_validation.csv",
        HEADER,
        [segment("P01_02_0", "P01_02", "00:00:00.10", "00:00:00.90", 1, 0)],
    )
    write_csv(annotations / "EPIC_100_test_timestamps.csv", TEST_HEADER,
              [["P02_03_7", "P02", "P02_03", "00:00:00.20", "00:00:00.80", 13, 48]])  # fmt: skip
    # the download script's layout for P01, one flat folder for P02
    for video in ("P01/videos/P01_01.MP4", "P01/videos/P01_02.MP4", "P02_03.MP4"):
        (videos / video).parent.mkdir(parents=True, exist_ok=True)
        (videos / video).write_bytes(b"not decoded by the reader")
    return annotations, videos


def test_reads_segments_with_verb_and_noun_label_sets(epic_tree):
    annotations, videos = epic_tree
    source = read_epic_kitchens(annotations, videos)
    assert source.format == "epic_kitchens" and source.license == "cc-by-nc-4.0"
    assert source.label_sets == {"verb": ["take", "put", "open"], "noun": ["tap", "cup"]}
    assert list(source.splits) == ["train", "validation", "test"]
    train = source.splits["train"]
    assert [c.clip_id for c in train] == ["P01_01_0", "P01_01_1", "P02_03_0"]
    assert train[1].labels == {"verb": 2, "noun": 0}
    assert (train[1].start, train[1].end, train[1].time_unit) == (2.0, 63.25, "seconds")
    assert train[0].path == str(videos / "P01" / "videos" / "P01_01.MP4")
    assert train[2].path == str(videos / "P02_03.MP4")
    assert dict(train[0].extra)["parent_video_id"] == "P01_01" and dict(train[0].extra)["narration"] == "take cup"
    assert list(source.extra_features) == [name for name, _ in train[0].extra]
    test = source.splits["test"]
    assert test[0].labels == {"verb": -1, "noun": -1} and dict(test[0].extra)["narration"] is None

    # frame numbers: EPIC's 1-based, stop frame included -> 0-based, end exclusive
    frames = read_epic_kitchens(annotations, videos, splits={"train": "EPIC_100_train.csv"}, time_unit="frames")
    clip = frames.splits["train"][1]
    assert (clip.start, clip.end, clip.time_unit) == (120, 3795, "frames")


def edit_train(annotations, row_index, column, value):
    path = annotations / "EPIC_100_train.csv"
    rows = list(csv.reader(open(path, encoding="utf-8")))
    rows[row_index + 1][HEADER.index(column)] = value
    write_csv(path, rows[0], rows[1:])
    return path


@pytest.mark.parametrize(
    "column, value, message",
    [
        ("noun_class", "5", r"EPIC_100_train.csv:3: noun_class 5 is outside EPIC_100_noun_classes.csv \(ids 0..1\)"),
        ("stop_timestamp", "00:00:01.50", r"EPIC_100_train.csv:3: segment P01_01_1 ends .* before or where it starts"),
        ("narration_id", "P01_01_0", r"EPIC_100_train.csv:3: narration_id P01_01_0 was already given on line 2"),
        ("start_timestamp", "1.5s", r"EPIC_100_train.csv:3: start_timestamp '1.5s' is not a timestamp"),
        ("video_id", "P01_09", r"EPIC_100_train.csv:3: video P01_09 not found .*skip_missing_videos"),
    ],
)
def test_bad_lines_are_one_line_errors(epic_tree, column, value, message):
    annotations, videos = epic_tree
    edit_train(annotations, 1, column, value)
    with pytest.raises(SourceInputError, match=message) as error:
        read_epic_kitchens(annotations, videos)
    assert "\n" not in str(error.value)


def test_missing_videos_can_be_skipped_into_the_report(epic_tree):
    annotations, videos = epic_tree
    (videos / "P02_03.MP4").unlink()
    source = read_epic_kitchens(annotations, videos, skip_missing_videos=True)
    assert [c.clip_id for c in source.splits["train"]] == ["P01_01_0", "P01_01_1"]
    assert [(s["line"], s["file"].endswith("EPIC_100_train.csv")) for s in source.skipped] == [(4, True), (2, False)]


def test_missing_columns_and_files(epic_tree):
    annotations, videos = epic_tree
    path = annotations / "EPIC_100_validation.csv"
    rows = list(csv.reader(open(path, encoding="utf-8")))
    drop = HEADER.index("noun_class")
    write_csv(
        path,
        [c for i, c in enumerate(rows[0]) if i != drop],
        [[v for i, v in enumerate(r) if i != drop] for r in rows[1:]],
    )
    with pytest.raises(SourceInputError, match=r"EPIC_100_validation.csv:1: no column \['noun_class'\]"):
        read_epic_kitchens(annotations, videos)
    (annotations / "EPIC_100_noun_classes.csv").unlink()
    with pytest.raises(SourceInputError, match=r"EPIC_100_noun_classes.csv: no such file"):
        read_epic_kitchens(annotations, videos)


@pytest.mark.slow  # prepares 3 splits with a depth model, trains a step, tests 6 views, predicts (17 s to 135 s on the shared machine)
def test_epic_kitchens_prepared_trained_and_its_test_split_predicted(tmp_path, tiny_dpt):
    """`dear-prepare --format epic_kitchens` on generated long videos, then the recipe with `--label_columns verb
    noun` (a preset takes the classes from the prepared columns): one step, validation with metrics, the unlabelled
    test split predicted into predictions.jsonl and submission.json."""
    import json

    import datasets

    from modeling_dear.cli.prepare import main as prepare_main
    from modeling_dear.testing_utils import smooth_moving_frames
    from modeling_dear.training.recipe import run
    from modeling_dear.video_io import encode_video, probe_video

    annotations, videos = tmp_path / "annotations", tmp_path / "videos"
    annotations.mkdir()
    write_csv(annotations / "EPIC_100_verb_classes.csv", ["id", "key", "instances", "category"],
              [[0, "take", "['take']", "retrieve"], [1, "put", "['put']", "leave"], [2, "open", "['open']", "access"]])  # fmt: skip
    write_csv(annotations / "EPIC_100_noun_classes.csv", ["id", "key", "instances", "category"],
              [[0, "tap", "['tap']", "appliances"], [1, "cup", "['cup']", "cutlery"]])  # fmt: skip
    for participant, seed in (("P01", 1), ("P02", 2)):  # 4 s at 10 fps each
        path = videos / participant / "videos" / f"{participant}_01.MP4"
        path.parent.mkdir(parents=True)
        path.write_bytes(encode_video(smooth_moving_frames(40, 32, 40, seed=seed), fps=10.0, codec="libx264"))
    write_csv(annotations / "EPIC_100_train.csv", HEADER, [
        segment("P01_01_0", "P01_01", "00:00:00.00", "00:00:01.00", 0, 1),
        segment("P01_01_1", "P01_01", "00:00:01.50", "00:00:02.70", 2, 0),
        segment("P02_01_0", "P02_01", "00:00:00.20", "00:00:01.40", 1, 1),
        segment("P02_01_1", "P02_01", "00:00:02.00", "00:00:03.90", 0, 0),
    ])  # fmt: skip
    write_csv(annotations / "EPIC_100_validation.csv", HEADER,
              [segment("P01_01_5", "P01_01", "00:00:02.80", "00:00:03.90", 2, 1)])  # fmt: skip
    write_csv(annotations / "EPIC_100_test_timestamps.csv", TEST_HEADER, [
        ["P02_01_7", "P02", "P02_01", "00:00:01.00", "00:00:02.10", 61, 126],
        ["P01_01_8", "P01", "P01_01", "00:00:00.50", "00:00:01.60", 31, 96],
    ])  # fmt: skip
    output = tmp_path / "prepared"
    engine = ["--shard_size", "2", "--batch_size", "8", "--num_workers", "0", "--encode_threads", "1"]
    options = ["--format", "epic_kitchens", "--source", str(videos), "--annotations", str(annotations)]
    assert prepare_main([*options, "--output_dir", str(output), "--depth_model", str(tiny_dpt), *engine]) == 0
    dataset = datasets.load_dataset(str(output), cache_dir=str(tmp_path / "cache"))
    assert sorted(dataset) == ["test", "train", "validation"]
    assert dataset["train"].features["verb"].names == ["take", "put", "open"]
    assert dataset["train"].features["noun"].names == ["tap", "cup"]
    rows = {r["video_id"]: r for r in dataset["train"]}
    assert (rows["P01_01_1"]["verb"], rows["P01_01_1"]["noun"], rows["P01_01_1"]["parent_video_id"]) == (2, 0, "P01_01")
    assert probe_video(rows["P01_01_1"]["video"]).num_frames == 12  # 1.5 s to 2.7 s at 10 fps
    assert dataset["test"]["verb"] == [-1, -1]

    common = ["--dataset", str(output), "--preset", "tiny", "--label_columns", "verb", "noun", "--per_device_train_batch_size", "2",
              "--per_device_eval_batch_size", "2", "--dataloader_num_workers", "0", "--warmup_epochs", "0", "--report_to", "none",
              "--disable_tqdm", "true", "--randaugment_num_ops", "0", "--clip_name_or_path", "none"]  # fmt: skip
    results = run([*common, "--output_dir", str(tmp_path / "run"), "--do_train", "--do_predict", "--max_steps", "1",
                   "--save_strategy", "no", "--repeated_augmentation", "1"])  # fmt: skip
    assert {"test_verb_top1", "test_noun_top1", "test_action_top1", "test_action_top5"} <= set(results["test"])
    run([*common, "--model_name_or_path", str(tmp_path / "run"), "--output_dir", str(tmp_path / "test"),
         "--do_predict", "--predict_split", "test"])  # fmt: skip
    submission = json.loads((tmp_path / "test" / "submission.json").read_text())
    assert sorted(submission["results"]) == ["P01_01_8", "P02_01_7"]  # keyed by narration id
    assert len(submission["results"]["P01_01_8"]["verb"]) == 3 and len(submission["results"]["P01_01_8"]["noun"]) == 2
