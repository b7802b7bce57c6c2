# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""The source readers: each layout people already have (class folders, split lists, UCF101, HMDB51, Kinetics
CSVs, segments of long videos, a `datasets` dataset) gives the clips, labels and splits it means, and each kind of
bad input is a one-line error naming the file and line, or an entry of `skipped` (never a silently dropped row)."""

import json
from pathlib import Path

import pytest

from modeling_dear.data.sources import SourceInputError
from modeling_dear.data.sources.hf_dataset import read_datasets
from modeling_dear.data.sources.kinetics import read_kinetics
from modeling_dear.data.sources.segments import read_segments
from modeling_dear.data.sources.split_lists import read_hmdb51, read_split_lists, read_ucf101
from modeling_dear.data.sources.videofolder import looks_like_videofolder, read_videofolder


@pytest.fixture(scope="module")
def clip_bytes(tmp_path_factory):
    """A tiny real MP4 (4 frames, 16x16): readers only look at names, but datasets' videofolder wants videos."""
    from modeling_dear.testing_utils import smooth_moving_frames
    from modeling_dear.video_io import encode_video

    return encode_video(smooth_moving_frames(4, 16, 16), codec="libx264")


def write(path: Path, data) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data)
    return path


def labels_of(source, split):
    return {e.clip_id: e.labels["label"] for e in source.splits[split]}


# 1. Class folders -------------------------------------------------------------------------------------------


@pytest.fixture()
def videofolder(tmp_path, clip_bytes):
    root = tmp_path / "videofolder"
    layout = {"train": ["walk", "Run", "jump"], "val": ["walk", "jump"], "test": ["zeta", "walk"]}
    for split, classes in layout.items():
        for name in classes:
            for k in range(2):
                write(root / split / name / f"{name}_{k}.mp4", clip_bytes)
    return root


def test_videofolder_ids_are_those_of_datasets_videofolder(videofolder):
    import datasets

    source = read_videofolder(videofolder)
    assert list(source.splits) == ["train", "validation", "test"]  # "val" as datasets names it
    reference = datasets.load_dataset("videofolder", data_dir=str(videofolder))
    assert source.label_sets["label"] == reference["train"].features["label"].names == ["Run", "jump", "walk", "zeta"]
    for split in ("train", "validation", "test"):
        rows = reference[split].cast_column("video", datasets.Video(decode=False))
        expected = {Path(r["video"]["path"]).resolve(): r["label"] for r in rows}
        assert {Path(e.path).resolve(): e.labels["label"] for e in source.splits[split]} == expected
    assert source.skipped == [] and looks_like_videofolder(videofolder)


def test_videofolder_without_splits_empty_class_and_stray_video(tmp_path, clip_bytes):
    root = tmp_path / "classes"
    for name in ("b", "a"):
        write(root / name / "x.webm", clip_bytes)
    (root / "empty_class").mkdir()
    source = read_videofolder(root)
    assert list(source.splits) == ["train"] and source.label_sets["label"] == ["a", "b"]
    assert labels_of(source, "train") == {"a/x": 0, "b/x": 1}
    assert source.skipped == [
        {"file": str(root / "empty_class"), "line": None, "reason": "class folder with no videos"}
    ]

    write(root / "stray.mp4", clip_bytes)
    with pytest.raises(SourceInputError, match=r"stray\.mp4: a video outside a class folder; move it"):
        read_videofolder(root)


def test_videofolder_metadata_keeps_columns_and_reports_missing_files(tmp_path, clip_bytes):
    root = tmp_path / "meta"
    for name in ("c1.mp4", "c2.mp4", "c3.mp4"):
        write(root / "train" / name, clip_bytes)
    write(root / "test" / "t1.mp4", clip_bytes)
    write(
        root / "train" / "metadata.csv",
        "file_name,label,camera,score\nc1.mp4,pour,left,0.5\nc2.mp4,cut,right,1\nc3.mp4,pour,left,2.5\ngone.mp4,cut,x,1\n",
    )
    write(root / "test" / "metadata.jsonl", json.dumps({"file_name": "t1.mp4", "label": "", "camera": "top"}) + "\n")
    source = read_videofolder(root)
    assert source.label_sets == {"label": ["cut", "pour"]}
    assert labels_of(source, "train") == {"c1": 1, "c2": 0, "c3": 1} and labels_of(source, "test") == {"t1": -1}
    assert dict(source.splits["train"][1].extra) == {"camera": "right", "score": 1.0}
    assert str(source.extra_features["score"].dtype) == "float64"
    assert source.skipped == [
        {"file": str(root / "train" / "metadata.csv"), "line": 5, "reason": f"no video file {root / 'train/gone.mp4'}"}
    ]

    write(root / "train" / "metadata.csv", "file_name,class\nc1.mp4,pour\n")
    with pytest.raises(SourceInputError, match=r"metadata.csv: no column 'label' \(it has \['file_name', 'class'\]\)"):
        read_videofolder(root)


# 2. Split lists, UCF101, HMDB51 -----------------------------------------------------------------------------


@pytest.fixture()
def lists(tmp_path, clip_bytes):
    videos = tmp_path / "videos"
    for name in ("a/1.mp4", "a/2.mp4", "b/1.mp4", "b/2.mp4", "c/1.mp4"):
        write(videos / name, clip_bytes)
    write(tmp_path / "classes.txt", "a\nb\nc\n")
    train = write(tmp_path / "train.txt", "a/1.mp4 0\nb/1.mp4 1\nc/1.mp4 2\n")
    val = write(tmp_path / "val.csv", "a/2.mp4,0\nb/2.mp4,1\n")
    return tmp_path, videos, {"train": train, "val": val}


def test_split_lists_with_ids_and_names(lists):
    root, videos, files = lists
    source = read_split_lists(files, videos, root / "classes.txt")
    assert labels_of(source, "train") == {"a/1": 0, "b/1": 1, "c/1": 2}
    assert labels_of(source, "validation") == {"a/2": 0, "b/2": 1}
    named = {"train": write(root / "named.txt", "b/1.mp4 b\nc/1.mp4 c\n")}
    assert read_split_lists(named, videos).label_sets["label"] == ["b", "c"]
    with pytest.raises(SourceInputError, match="the labels are ids; give the class names"):
        read_split_lists(files, videos)


@pytest.mark.parametrize(
    "content, message",
    [
        ("a/1.mp4 0\nb/1.mp4 3\n", r"train.txt, line 2: label '3' is not among .*classes.txt"),
        ("a/1.mp4 0\nb/1.mp4 1\na/1.mp4 0\n", r"train.txt, line 3: clip 'a/1' of the train split is also at .*line 1"),
        ("", r"train.txt: the train split has no rows"),
        ("a/1.mp4\n", r"train.txt, line 1: no label after the path"),
        ("x/1.mp4 0\ny/2.mp4 1\n", r"train.txt, line 1: none of the 2 train videos exists.*check --data_prefix"),
    ],
)
def test_split_list_errors_name_file_and_line(lists, content, message):
    root, videos, files = lists
    write(files["train"], content)
    with pytest.raises(SourceInputError, match=message):
        read_split_lists(files, videos, root / "classes.txt")


def test_split_list_missing_file_is_reported(lists):
    root, videos, files = lists
    write(files["train"], "a/1.mp4 0\nmissing/9.mp4 1\nb/1.mp4 1\n")
    source = read_split_lists(files, videos, root / "classes.txt")
    assert labels_of(source, "train") == {"a/1": 0, "b/1": 1}  # nothing shifted
    assert source.skipped == [
        {"file": str(files["train"]), "line": 2, "reason": f"no video file {videos / 'missing/9.mp4'}"}
    ]


def test_ucf101_and_hmdb51_files(tmp_path, clip_bytes):
    videos = tmp_path / "UCF-101"
    for name in ("ApplyLipstick/v_ApplyLipstick_g01_c01.avi", "Archery/v_Archery_g01_c01.avi"):
        write(videos / name, clip_bytes)
        write(videos / name.replace("g01", "g08"), clip_bytes)
    notes = tmp_path / "ucfTrainTestlist"
    write(notes / "classInd.txt", "1 ApplyLipstick\n2 Archery\n")
    write(
        notes / "trainlist01.txt",
        "ApplyLipstick/v_ApplyLipstick_g08_c01.avi 1\nArchery/v_Archery_g08_c01.avi 2\n",
    )
    write(notes / "testlist01.txt", "ApplyLipstick/v_ApplyLipstick_g01_c01.avi\nArchery/v_Archery_g01_c01.avi\n")
    source = read_ucf101(videos, notes, 1)
    assert source.label_sets["label"] == ["ApplyLipstick", "Archery"]
    assert sorted(labels_of(source, "train").values()) == [0, 1] and sorted(labels_of(source, "test").values()) == [
        0,
        1,
    ]
    with pytest.raises(SourceInputError, match="testlist02.txt: no such list file; check --split_number"):
        write(notes / "trainlist02.txt", "Archery/v_Archery_g08_c01.avi 2\n")
        read_ucf101(videos, notes, 2)
    write(notes / "trainlist01.txt", "Archery/v_Archery_g08_c01.avi 1\n")
    with pytest.raises(
        SourceInputError, match=r"trainlist01.txt, line 1: label 1 is 'ApplyLipstick' but the folder is"
    ):
        read_ucf101(videos, notes, 1)

    hmdb = tmp_path / "hmdb51"
    for name in ("wave/w1.avi", "wave/w2.avi", "wave/w3.avi", "clap/c1.avi", "clap/c2.avi"):
        write(hmdb / name, clip_bytes)
    splits = tmp_path / "splits"
    write(splits / "wave_test_split1.txt", "w1.avi 1\nw2.avi 2\nw3.avi 0\n")
    write(splits / "clap_test_split1.txt", "c1.avi 1 \nc2.avi 2 \n")
    source = read_hmdb51(hmdb, splits, 1)
    assert source.label_sets["label"] == ["clap", "wave"]
    assert labels_of(source, "train") == {"c1": 0, "w1": 1} and labels_of(source, "test") == {"c2": 0, "w2": 1}


# 3. Kinetics -------------------------------------------------------------------------------------------------


def test_kinetics_trimmed_flat_or_in_class_folders_and_cut_from_full_videos(tmp_path, clip_bytes):
    csv = write(
        tmp_path / "train.csv",
        "label,youtube_id,time_start,time_end,split\nsinging,abc,3,13,train\ndancing,xyz,0,10,train\n"
        "singing,gone,1,11,train\n",
    )
    write(tmp_path / "validate.csv", "label,youtube_id,time_start,time_end,split\ndancing,qqq,5,15,val\n")
    trimmed = tmp_path / "trimmed"
    write(trimmed / "singing" / "abc_000003_000013.mp4", clip_bytes)
    write(trimmed / "dancing" / "xyz_000000_000010.mp4", clip_bytes)
    write(trimmed / "qqq_000005_000015.mp4", clip_bytes)  # flat
    source = read_kinetics([csv, tmp_path / "validate.csv"], trimmed)
    assert source.label_sets["label"] == ["dancing", "singing"]
    assert labels_of(source, "train") == {"abc_000003_000013": 1, "xyz_000000_000010": 0}
    assert not any(e.is_segment for e in source.splits["train"])
    assert [s["line"] for s in source.skipped] == [4]

    full = tmp_path / "full"
    for name in ("abc", "xyz", "gone", "qqq"):
        write(full / f"{name}.mp4", clip_bytes)
    source = read_kinetics([csv, tmp_path / "validate.csv"], full)
    first = source.splits["train"][0]
    assert (first.start, first.end, first.time_unit, Path(first.path).name) == (3.0, 13.0, "seconds", "abc.mp4")
    assert labels_of(source, "validation") == {"qqq_000005_000015": 0}

    write(csv, "label,youtube_id,start\nsinging,abc,3\n")
    with pytest.raises(SourceInputError, match=r"train.csv: no column 'time_start', 'time_end'"):
        read_kinetics([csv], full)


# 4. Segments of long videos ----------------------------------------------------------------------------------

EPIC_HEADER = "narration_id,participant_id,video_id,start_timestamp,stop_timestamp,start_frame,stop_frame,verb,verb_class,noun,noun_class\n"


def test_epic_kitchens_annotations_as_segments(tmp_path, clip_bytes):
    videos = tmp_path / "EPIC"
    write(videos / "P01" / "videos" / "P01_01.MP4", clip_bytes)
    write(videos / "P02" / "videos" / "P02_03.MP4", clip_bytes)
    train = write(
        tmp_path / "EPIC_100_train.csv",
        EPIC_HEADER + "P01_01_0,P01,P01_01,00:00:00.50,00:00:01.25,30,75,open,3,door,8\n"
        "P01_01_1,P01,P01_01,00:00:01.00,00:00:02.00,60,120,take,0,cup,2\n"
        "P02_03_0,P02,P02_03,00:01:02.50,00:01:03.00,3750,3780,open,3,cup,2\n",
    )
    source = read_segments({"train": train}, videos, "verb_class")
    assert source.label_sets == {"label": ["0", "1", "2", "3"]}
    entries = source.splits["train"]
    assert [(e.clip_id, e.start, e.end, e.labels["label"]) for e in entries] == [
        ("P01_01_0", 0.5, 1.25, 3),
        ("P01_01_1", 1.0, 2.0, 0),
        ("P02_03_0", 62.5, 63.0, 3),
    ]
    assert entries[0].path == entries[1].path == str(videos / "P01" / "videos" / "P01_01.MP4")
    assert dict(entries[0].extra)["noun"] == "door" and "source_video_id" not in dict(entries[0].extra)

    names = write(
        tmp_path / "EPIC_100_verb_classes.csv",
        "id,key,instances,category\n0,take,[],x\n1,put,[],x\n2,wash,[],x\n3,open,[],x\n",
    )
    both = read_segments({"train": train}, videos, "verb_class,noun_class", class_names={"verb_class": names})
    assert both.label_sets["verb"] == ["take", "put", "wash", "open"] and len(both.label_sets["noun"]) == 9
    assert both.splits["train"][0].labels == {"verb": 3, "noun": 8}
    assert dict(both.splits["train"][0].extra)["source_verb"] == "open"  # EPIC's own `verb`, beside the label set

    frames = read_segments({"train": train}, videos, "verb_class", time_unit="frames")
    assert (frames.splits["train"][0].start, frames.splits["train"][0].end, frames.splits["train"][0].time_unit) == (
        30.0,
        75.0,
        "frames",
    )


def test_segment_errors(tmp_path, clip_bytes):
    videos = tmp_path / "long"
    write(videos / "kitchen.mp4", clip_bytes)
    table = write(tmp_path / "segments.csv", "video,start,end,label\nkitchen.mp4,2,1,pour\n")
    with pytest.raises(SourceInputError, match=r"segments.csv, line 2: the segment ends \(1\) before it starts \(2\)"):
        read_segments({"train": table}, videos)
    write(table, "video,begin,end,label\nkitchen.mp4,0,1,pour\n")
    with pytest.raises(SourceInputError, match=r"segments.csv: no start column .*--start_column"):
        read_segments({"train": table}, videos)
    write(table, "video,start,end,label\nkitchen.mp4,0,1,pour\nkitchen.mp4,0,1,cut\n")
    with pytest.raises(SourceInputError, match=r"line 3: clip 'kitchen_0_1' of the train split is also at .*line 2"):
        read_segments({"train": table}, videos)
    write(table, "video,start,end,label,split\nkitchen.mp4,0,1,pour,train\nkitchen.mp4,1,2,cut,val\n")
    source = read_segments({None: table}, videos)
    assert list(source.splits) == ["train", "validation"] and source.label_sets["label"] == ["cut", "pour"]


# 5. A datasets dataset ---------------------------------------------------------------------------------------


def test_datasets_dataset_with_video_feature_bytes_and_string_labels(tmp_path, clip_bytes):
    import datasets

    path = write(tmp_path / "files" / "one.mp4", clip_bytes)
    saved = tmp_path / "saved"
    datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_dict(
                {"video": [str(path), str(path)], "label": [1, 0], "fps": [12.0, 24.0]},
                features=datasets.Features(
                    {
                        "video": datasets.Video(decode=False),
                        "label": datasets.ClassLabel(names=["x", "y"]),
                        "fps": datasets.Value("float32"),
                    }
                ),
            ),
            "test": datasets.Dataset.from_dict(
                {"clip": [{"bytes": clip_bytes, "path": "a.mp4"}], "label": [-1], "fps": [1.0]},
                features=datasets.Features(
                    {
                        "clip": datasets.Video(decode=False),
                        "label": datasets.ClassLabel(names=["x", "y"]),
                        "fps": datasets.Value("float32"),
                    }
                ),
            ).rename_column("clip", "video"),
        }
    ).save_to_disk(str(saved))
    source = read_datasets(saved, tmp_path / "cache")
    assert source.label_sets == {"label": ["x", "y"]}
    assert labels_of(source, "train") == {"00000000": 1, "00000001": 0} and labels_of(source, "test") == {
        "00000000": -1
    }
    assert dict(source.splits["train"][1].extra) == {"source_fps": 24.0}
    cached = Path(source.splits["test"][0].path)
    assert cached.parent == tmp_path / "cache" / "test" and cached.read_bytes() == clip_bytes

    strings = datasets.Dataset.from_dict({"path": [str(path)], "activity": ["wave"]})
    assert read_datasets(
        "mem", tmp_path, label_column="activity", dataset=datasets.DatasetDict({"train": strings})
    ).label_sets == {"label": ["wave"]}
    with pytest.raises(
        SourceInputError, match=r"mem: no label column \(it has \['path', 'activity'\]\); name it with --label_column"
    ):
        read_datasets("mem", tmp_path, dataset=datasets.DatasetDict({"train": strings}))
    no_video = datasets.Dataset.from_dict({"text": ["a"], "label": [0]})
    with pytest.raises(SourceInputError, match=r"mem: no video column .*--video_column"):
        read_datasets("mem", tmp_path, dataset=datasets.DatasetDict({"train": no_video}))
