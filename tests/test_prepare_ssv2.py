# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""SSv2 preparation end to end on a miniature download (a few generated WebM files, the four label files in
the real format, a corrupt video, an id without a file, an unlabelled file), with a tiny random DPT: rows,
labels, frame alignment, reports, archive parts, resumption after an interruption, and bad input.

Why one module: one fixture download (videos, archive parts, label files) serves every preparation test, from
planning through resume and failures to the written card.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("av")
torch = pytest.importorskip("torch")

from modeling_dear.cli import prepare_ssv2 as cli  # noqa: E402
from modeling_dear.data.schema import COLUMNS, ssv2_label_names, video_features  # noqa: E402
from modeling_dear.data.ssv2 import (  # noqa: E402
    REPORT_FILE,
    SSv2InputError,
    normalize_template,
    prepare_ssv2,
)
from modeling_dear.video_io import encode_video, probe_video, read_depth_frames  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TRAIN_IDS = ["101", "102", "103", "104", "105"]  # 103 corrupt, 104 has no file
VALIDATION_IDS = ["201", "202", "203"]
TEST_IDS = ["301", "302"]
UNLABELLED_ID = "999"
CLASSES = {"101": 10, "102": 86, "103": 3, "104": 7, "105": 102, "201": 86, "202": 87, "203": 113}
SETTINGS = dict(shard_size=2, batch_size=8, num_workers=0, encode_threads=1, progress=False, poll_seconds=0.1)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _bracketed(name: str) -> str:
    return name.replace("something", "[something]").replace("number of", "[number of]")


@pytest.fixture(scope="module")
def download(tmp_path_factory, make_frames):
    """A miniature SSv2 download: videos/<id>.webm and labels/ (the current download's file names)."""
    root = tmp_path_factory.mktemp("ssv2")
    names = ssv2_label_names()
    labels = root / "labels"
    labels.mkdir()
    # labels.json maps names to ids as strings, in an order that is not the id order
    order = sorted(range(len(names)), key=lambda i: (i * 37) % len(names))
    (labels / "labels.json").write_text(json.dumps({names[i]: str(i) for i in order}, indent=4))
    for split, ids in (("train", TRAIN_IDS), ("validation", VALIDATION_IDS)):
        entries = [
            {
                "id": i,
                "label": names[CLASSES[i]].replace("something", "a cup"),
                "template": _bracketed(names[CLASSES[i]]),
                "placeholders": ["a cup"] * names[CLASSES[i]].count("something"),
            }
            for i in ids
        ]
        (labels / f"{split}.json").write_text(json.dumps(entries, indent=4))
    (labels / "test.json").write_text(json.dumps([{"id": i} for i in TEST_IDS], indent=4))
    videos = root / "videos"
    videos.mkdir()
    for k, video_id in enumerate(TRAIN_IDS + VALIDATION_IDS + TEST_IDS + [UNLABELLED_ID]):
        if video_id == "104":
            continue
        data = encode_video(make_frames(5 + k % 4, 40, 64, seed=k), fps=12.0)
        if video_id == "103":
            data = data[: len(data) // 2]  # cut short, as by an interrupted copy
        (videos / f"{video_id}.webm").write_bytes(data)
    return root


def _load(folder: Path, cache: Path):
    import datasets

    return datasets.load_dataset(str(folder), cache_dir=str(cache))


@pytest.fixture(scope="module")
def prepared(download, tiny_dpt, tmp_path_factory):
    output = tmp_path_factory.mktemp("out") / "ssv2_depth"
    summary = prepare_ssv2(download / "videos", download / "labels", output, str(tiny_dpt), **SETTINGS)
    return output, summary, _load(output, tmp_path_factory.mktemp("cache"))


class CountingEstimator:
    """A DepthEstimator stand-in that counts the videos it is given and can be interrupted (Ctrl-C) at its
    n-th call."""

    def __init__(self, model_path, interrupt_at_call: int | None = None):
        from modeling_dear.depth_estimation import DepthEstimator

        self.inner = DepthEstimator(model_path, device="cpu", batch_size=8)
        self.name, self.normalize = self.inner.name, self.inner.normalize
        self.interrupt_at_call = interrupt_at_call
        self.calls = 0
        self.videos: list[int] = []

    def estimate_clips(self, clips, normalize=None):
        self.calls += 1
        if self.calls == self.interrupt_at_call:
            raise KeyboardInterrupt
        self.videos.extend(len(c) for c in clips)
        return self.inner.estimate_clips(clips, normalize)


def test_templates_normalise_to_the_label_names():
    for name in ssv2_label_names():
        assert normalize_template(_bracketed(name)) == name
    assert normalize_template("Putting [something] into  [something]") == "Putting something into something"


def test_end_to_end(prepared, download, tiny_dpt):
    output, summary, dataset = prepared
    names = ssv2_label_names()
    assert list(dataset) == ["train", "validation", "test"]
    assert {s: len(d) for s, d in dataset.items()} == {"train": 3, "validation": 3, "test": 2}
    for split in dataset.values():
        # ClassLabel names survive the round trip through Parquet, in labels.json id order
        assert split.features == video_features(names)
        assert tuple(split.column_names) == COLUMNS
    assert dataset["train"]["video_id"] == ["101", "102", "105"]
    for row in list(dataset["train"]) + list(dataset["validation"]):
        assert row["label"] == CLASSES[row["video_id"]]
        assert normalize_template(row["template"]) == names[row["label"]]
        assert row["placeholders"] == ["a cup"] * names[row["label"]].count("something")
    assert set(dataset["test"]["label"]) == {-1} and set(dataset["test"]["template"]) == {""}
    for split in dataset.values():
        for row in split:
            rgb, depth = probe_video(row["video"]), probe_video(row["depth"])
            assert rgb.num_frames == depth.num_frames == row["num_frames"]  # one depth frame per RGB frame
            assert (row["height"], row["width"], row["fps"]) == (40, 64, 12.0)
            assert row["video"]["bytes"] == (download / "videos" / f"{row['video_id']}.webm").read_bytes()
            assert row["depth_model"] == str(tiny_dpt)
            assert read_depth_frames(row["depth"], [0, row["num_frames"] - 1], size=(40, 64)).shape == (2, 40, 64)

    report = json.loads((output / REPORT_FILE).read_text())
    assert [(f["id"], f["split"]) for f in report["failed"]] == [("103", "train")]
    assert "103.webm" in report["failed"][0]["error"]
    assert [(f["id"], f["split"]) for f in report["missing"]] == [("104", "train")]
    assert report["unlabelled_videos"] == 1 and report["rows"] == {"train": 3, "validation": 3, "test": 2}
    assert (summary.videos_done, summary.videos_failed, summary.videos_missing) == (8, 2, 1)
    assert summary.complete and "8 videos done, 2 failed (1 missing)" in str(summary)
    # only the finished shards are data files: nothing in flight, no empty file for the all-failed shard
    assert sorted(p.name for p in (output / "data").iterdir()) == [
        "test-00000-of-00001.parquet",
        "train-00000-of-00003.parquet",
        "train-00002-of-00003.parquet",
        "validation-00000-of-00002.parquet",
        "validation-00001-of-00002.parquet",
    ]


def test_resume_after_interruption(prepared, download, tiny_dpt, tmp_path):
    output = tmp_path / "ssv2_depth"
    # shard train-00000 (101, 102) is estimated at call 1; train-00001 (103 corrupt, 104 missing) needs no
    # call; Ctrl-C arrives at call 2, in train-00002 (105)
    interrupted = CountingEstimator(tiny_dpt, interrupt_at_call=2)
    with pytest.raises(KeyboardInterrupt):
        prepare_ssv2(download / "videos", download / "labels", output, interrupted, **SETTINGS)
    first = output / "data" / "train-00000-of-00003.parquet"
    assert first.exists() and not (output / "data" / "train-00002-of-00003.parquet").exists()
    assert not (output / "README.md").exists()
    stamp = first.stat().st_mtime_ns

    resumed = CountingEstimator(tiny_dpt)
    summary = prepare_ssv2(download / "videos", download / "labels", output, resumed, **SETTINGS)
    assert first.stat().st_mtime_ns == stamp  # the finished shard was not rewritten
    assert len(resumed.videos) == 8 - 2  # 101 and 102 were not estimated again
    assert (summary.shards_skipped, summary.videos_skipped) == (2, 4)
    assert summary.totals["rows"] == {"train": 3, "validation": 3, "test": 2}

    # the resumed dataset is the one an uninterrupted run makes
    expected = prepared[2]
    dataset = _load(output, tmp_path / "cache")
    for split in expected:
        assert dataset[split]["video_id"] == expected[split]["video_id"]
        assert dataset[split]["depth"] == expected[split]["depth"]
    report = json.loads((output / REPORT_FILE).read_text())
    assert [f["id"] for f in report["failed"] + report["missing"]] == ["103", "104"]


def _split_archive(download: Path, folder: Path, num_parts: int = 2) -> list[Path]:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path in sorted((download / "videos").iterdir()):
            archive.add(path, arcname=f"20bn-something-something-v2/{path.name}")
    data = buffer.getvalue()
    folder.mkdir()
    cut = len(data) // num_parts
    parts = []
    for k in range(num_parts):
        part = folder / f"20bn-something-something-v2-{k:02d}"
        part.write_bytes(data[k * cut : (k + 1) * cut if k < num_parts - 1 else len(data)])
        parts.append(part)
    return parts


def test_archive_parts_through_the_example_script(prepared, download, tiny_dpt, tmp_path):
    """`examples/prepare_ssv2.py` as users run it, in a process of its own, straight from the archive parts."""
    _split_archive(download, tmp_path / "download")
    output = tmp_path / "ssv2_depth"
    command = [
        sys.executable,
        str(ROOT / "examples" / "prepare_ssv2.py"),
        "--videos",
        str(tmp_path / "download"),
        "--labels",
        str(download / "labels"),
        "--output_dir",
        str(output),
        "--depth_model",
        str(tiny_dpt),
        "--shard_size",
        "4",
        "--batch_size",
        "8",
        "--num_workers",
        "1",
        "--encode_threads",
        "1",
    ]
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, env=environment, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    dataset = _load(output, tmp_path / "cache")
    expected = prepared[2]
    for split in expected:
        assert dataset[split]["video_id"] == expected[split]["video_id"]
        assert dataset[split]["video"] == expected[split]["video"]
        assert dataset[split]["depth"] == expected[split]["depth"]
    report = json.loads((output / REPORT_FILE).read_text())
    assert [f["id"] for f in report["failed"]] == ["103"] and [f["id"] for f in report["missing"]] == ["104"]
    assert not (output / ".prepare_ssv2" / "videos").exists()  # the extracted copy is removed at the end


def test_missing_archive_part_is_named(download, tmp_path):
    parts = _split_archive(download, tmp_path / "download", num_parts=3)
    parts[1].unlink()
    with pytest.raises(SSv2InputError, match="20bn-something-something-v2-01: archive part missing"):
        prepare_ssv2(tmp_path / "download", download / "labels", tmp_path / "out", "unused", **SETTINGS)
    assert not (tmp_path / "out").exists()


def _labels_copy(download: Path, tmp_path: Path) -> Path:
    labels = tmp_path / "labels"
    shutil.copytree(download / "labels", labels)
    return labels


def test_bad_label_files(download, tmp_path):
    labels = _labels_copy(download, tmp_path)
    run = lambda: prepare_ssv2(download / "videos", labels, tmp_path / "out", "unused", **SETTINGS)  # noqa: E731

    (labels / "labels.json").unlink()
    with pytest.raises(SSv2InputError, match=r"labels\.json.*not found"):
        run()
    shutil.copy(download / "labels" / "labels.json", labels / "labels.json")

    (labels / "validation.json").write_text(
        '[\n  {"id": "201", "template": "Holding [something]"},\n  {"id": "202" "template": "Holding [something]"}\n]\n'
    )
    with pytest.raises(SSv2InputError, match=r"validation\.json: malformed JSON at line 3, column 16"):
        run()
    shutil.copy(download / "labels" / "validation.json", labels / "validation.json")

    entries = json.loads((labels / "train.json").read_text())
    entries[2]["template"] = "Juggling [something] with [something]"
    (labels / "train.json").write_text(json.dumps(entries))
    with pytest.raises(SSv2InputError, match=r"train\.json: 1 template.*id 103: 'Juggling \[something\] with"):
        run()
    assert not (tmp_path / "out").exists()  # nothing is written before the inputs are checked


def test_other_settings_do_not_touch_a_finished_dataset(prepared, download, tiny_dpt, tmp_path):
    output = tmp_path / "ssv2_depth"
    shutil.copytree(prepared[0], output)
    before = {p.name: p.stat().st_mtime_ns for p in (output / "data").iterdir()}
    with pytest.raises(SSv2InputError, match=r"plan\.json: .*other settings or inputs \(shard_size: 2 then, 3 now\)"):
        prepare_ssv2(download / "videos", download / "labels", output, str(tiny_dpt), **{**SETTINGS, "shard_size": 3})
    labels = _labels_copy(download, tmp_path)
    (labels / "train.json").write_text("[{")
    with pytest.raises(SSv2InputError, match=r"train\.json: malformed JSON at line 1"):
        prepare_ssv2(download / "videos", labels, output, "unused", **SETTINGS)
    assert {p.name: p.stat().st_mtime_ns for p in (output / "data").iterdir()} == before
    assert os.path.exists(output / "README.md") and os.path.exists(output / REPORT_FILE)


def test_finished_dataset_is_not_redone(prepared, download, tiny_dpt, tmp_path):
    output = tmp_path / "ssv2_depth"
    shutil.copytree(prepared[0], output)
    summary = prepare_ssv2(download / "videos", download / "labels", output, _NeverCalled(str(tiny_dpt)), **SETTINGS)
    assert summary.videos_done == 0 and summary.videos_skipped == 10 and summary.complete


class _NeverCalled:
    normalize = "clip"

    def __init__(self, name: str):
        self.name = name

    def estimate_clips(self, clips, normalize=None):
        raise AssertionError("a finished dataset must not be estimated again")


def test_depth_frames_match_the_decoded_rgb_count(prepared):
    # the decoders agree with the container about the number of frames of both videos
    from modeling_dear.video_io import open_video

    row = prepared[2]["validation"][0]
    rgb = open_video(row["video"])
    depth = open_video(row["depth"])
    n = rgb.info.num_frames
    assert rgb.read(np.arange(n)).shape[0] == depth.read_depth(np.arange(n), size=(40, 64)).shape[0] == n


def test_chosen_splits_and_an_empty_split(download, tiny_dpt, tmp_path):
    labels = _labels_copy(download, tmp_path)
    (labels / "train.json").unlink()  # not needed when train is not built
    (labels / "test.json").write_text("[]")
    output = tmp_path / "ssv2_depth"
    summary = prepare_ssv2(
        download / "videos", labels, output, str(tiny_dpt), splits=("validation", "test"), **SETTINGS
    )
    assert summary.complete and summary.totals["rows"] == {"validation": 3, "test": 0}
    dataset = _load(output, tmp_path / "cache")
    assert list(dataset) == ["validation"] and dataset["validation"]["video_id"] == VALIDATION_IDS


# ------------------------------------------------------------------------------------------ failed starts


def test_a_depth_model_that_cannot_load_writes_nothing(download, tiny_dpt, tmp_path, capsys):
    output = tmp_path / "ssv2_depth"
    common = [
        "--videos",
        str(download / "videos"),
        "--labels",
        str(download / "labels"),
        "--output_dir",
        str(output),
        "--shard_size",
        "2",
        "--batch_size",
        "8",
        "--num_workers",
        "0",
        "--encode_threads",
        "1",
    ]
    for model, message in (
        (str(tmp_path / "no-such-dpt"), "no-such-dpt: the folder does not exist"),
        ("Intel/dpt-hybrid-midaz", "Intel/dpt-hybrid-midaz: the depth model cannot be loaded"),  # typo, offline
        (str(download / "labels"), "labels: the folder holds no config.json"),  # a folder, but not a model
    ):
        assert cli.main(common + ["--depth_model", model, "--local_files_only", "true"]) == 2
        error = capsys.readouterr().err.strip()
        assert error.startswith("error: ") and message in error and len(error.splitlines()) == 1
        assert not (output / ".prepare_ssv2" / "plan.json").exists()
    # the corrected command runs in the same folder
    assert cli.main(common + ["--depth_model", str(tiny_dpt)]) == 0
    assert json.loads((output / REPORT_FILE).read_text())["rows"] == {"train": 3, "validation": 3, "test": 2}


def test_bad_video_folder_archive_and_codec_options_write_nothing(download, tiny_dpt, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    output = tmp_path / "out"
    with pytest.raises(SSv2InputError, match=r"empty: no \.webm/\.mp4 video files here"):
        prepare_ssv2(empty, download / "labels", output, str(tiny_dpt), **SETTINGS)
    not_tar = tmp_path / "20bn-something-something-v2-00"
    not_tar.write_bytes(b"<html>download quota exceeded</html>" * 20)
    with pytest.raises(SSv2InputError, match=r"v2-00: not a tar or tar\.gz archive"):
        prepare_ssv2(not_tar, download / "labels", output, str(tiny_dpt), **SETTINGS)
    with pytest.raises(SSv2InputError, match=r"depth codec options .*libx264 refuses them"):
        prepare_ssv2(
            download / "videos",
            download / "labels",
            output,
            str(tiny_dpt),
            depth_codec_options={"qp": "0", "preset": "no-such-preset"},
            **SETTINGS,
        )
    assert not output.exists()


def test_a_plan_without_finished_shards_is_replaced(prepared, download, tiny_dpt, tmp_path):
    output = tmp_path / "ssv2_depth"
    # an earlier run with shard_size 3 wrote its plan and was killed while writing its first shard
    work = output / ".prepare_ssv2"
    (work / "shards").mkdir(parents=True)
    (output / "data").mkdir()
    (work / "plan.json").write_text(json.dumps({"version": 1, "shard_size": 3, "splits": {}}))
    (output / "data" / "train-00000-of-00002.parquet").write_bytes(b"half a shard")
    summary = prepare_ssv2(download / "videos", download / "labels", output, str(tiny_dpt), **SETTINGS)
    assert summary.complete and json.loads((work / "plan.json").read_text())["shard_size"] == 2
    assert not (output / "data" / "train-00000-of-00002.parquet").exists()  # the old plan's partial shard
    dataset = _load(output, tmp_path / "cache")
    for split in prepared[2]:
        assert dataset[split]["depth"] == prepared[2][split]["depth"]
    # once shards are finished, other settings are refused as before
    with pytest.raises(SSv2InputError, match=r"other settings or inputs \(shard_size: 2 then, 3 now\) and 6 finished"):
        prepare_ssv2(download / "videos", download / "labels", output, str(tiny_dpt), **{**SETTINGS, "shard_size": 3})


def test_still_images_are_reported_not_stored(download, tiny_dpt, tmp_path):
    from PIL import Image

    videos = tmp_path / "videos"
    shutil.copytree(download / "videos", videos)
    Image.fromarray(np.zeros((40, 64, 3), np.uint8)).save(videos / "202.webm", format="PNG")  # an image renamed
    output = tmp_path / "ssv2_depth"
    summary = prepare_ssv2(videos, download / "labels", output, str(tiny_dpt), splits=("validation",), **SETTINGS)
    assert summary.complete and summary.totals["rows"] == {"validation": 2}
    report = json.loads((output / REPORT_FILE).read_text())
    assert [f["id"] for f in report["failed"]] == ["202"]
    assert "202.webm: is an image (PNG), not a video" in report["failed"][0]["error"]


# ------------------------------------------------------------------------------------------ orphaned workers


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited; reaping it is its new parent's business


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the process tree from /proc")
def test_decode_workers_exit_when_the_main_process_is_killed(download, tmp_path):
    import signal
    import subprocess
    import time

    # the main process blocks in depth estimation while its two decode workers have frames queued for it:
    # the state in which a kill -9 used to leave the workers blocked forever
    script = f"""
import sys, time
from modeling_dear.data.ssv2 import prepare_ssv2

class Stuck:
    name, normalize = "stuck", "clip"
    def estimate_clips(self, clips, normalize=None):
        print("estimating", flush=True)
        time.sleep(300)

prepare_ssv2({str(download / "videos")!r}, {str(download / "labels")!r}, {str(tmp_path / "out")!r}, Stuck(),
             shard_size=2, batch_size=1, num_workers=2, encode_threads=1, progress=False)
"""
    process = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}
    )
    workers = []
    try:
        assert process.stdout.readline().strip() == "estimating"
        time.sleep(1.0)  # the workers fill their queues
        workers = _children(process.pid)
        assert len(workers) >= 2
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        deadline = time.monotonic() + 10
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [w for w in workers if _alive(w)], "decode workers outlived their killed parent"
    finally:
        if process.poll() is None:
            process.kill()
        for worker in workers:
            if _alive(worker):
                os.kill(worker, signal.SIGKILL)


# ------------------------------------------------------------------------------------------ long videos


@pytest.mark.parametrize("normalize", ["clip", "frame"])
def test_long_videos_stream_in_chunks_with_the_same_depth(download, tiny_dpt, tmp_path, monkeypatch, normalize):
    import modeling_dear.data.prepare.shards as module
    from modeling_dear.depth_estimation import DepthEstimator
    from modeling_dear.video_io import open_video

    estimator = DepthEstimator(str(tiny_dpt), device="cpu", batch_size=2, normalize=normalize)
    whole_clips = []
    original = estimator.estimate_clips
    monkeypatch.setattr(estimator, "estimate_clips", lambda clips, n=None: whole_clips.append(1) or original(clips, n))
    chunks = []
    predict = estimator.predict
    monkeypatch.setattr(estimator, "predict", lambda frames: chunks.append(len(frames)) or predict(frames))
    # every clip (6, 7 and 8 frames) is "long": it goes through in chunks of 2 frames
    monkeypatch.setattr(module, "STREAM_ABOVE_FRAMES", 4)
    monkeypatch.setattr(module, "STREAM_CHUNK_FRAMES", 2)
    output = tmp_path / "ssv2_depth"
    summary = prepare_ssv2(
        download / "videos",
        download / "labels",
        output,
        estimator,
        splits=("validation",),
        **{**SETTINGS, "batch_size": 2},
    )
    assert summary.complete and not whole_clips and max(chunks) == 2 and sum(chunks) == 6 + 7 + 8
    assert not list((output / ".prepare_ssv2").rglob("*.depth.*"))  # no parked depth left behind
    rows = list(_load(output, tmp_path / "cache")["validation"])
    assert [r["video_id"] for r in rows] == VALIDATION_IDS
    for row in rows:
        video = open_video(row["video"])
        frames = video.read(np.arange(video.info.num_frames))
        expected = original([frames])[0]  # the whole clip at once, as shorter videos are estimated
        stored = read_depth_frames(row["depth"], np.arange(row["num_frames"]), size=(40, 64))
        np.testing.assert_array_equal(stored, expected)


# ------------------------------------------------------------------------------------------ values that cannot be right


def test_two_files_for_one_video_id_are_refused(download, tiny_dpt, tmp_path):
    videos = tmp_path / "videos"
    shutil.copytree(download / "videos", videos)
    shutil.copy(videos / "201.webm", videos / "201.mp4")
    with pytest.raises(SSv2InputError, match=r"videos: two files for video id 201 \(201\.mp4 and 201\.webm\)"):
        prepare_ssv2(videos, download / "labels", tmp_path / "out", str(tiny_dpt), **SETTINGS)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("--depth_crf", "-1", "crf='-1' (--depth_crf): must be a number in 0..51"),
        ("--depth_crf", "60", "crf='60' (--depth_crf): must be a number in 0..51"),
        ("--num_workers", "-1", "--num_workers -1: must be an integer of at least 0"),
        ("--batch_size", "0", "--batch_size 0: must be an integer of at least 1"),
        ("--encode_threads", "0", "--encode_threads 0: must be an integer of at least 1"),
        ("--shard_size", "0", "--shard_size 0: must be an integer of at least 1"),
    ],
)
def test_impossible_options_are_one_line_errors(download, tiny_dpt, tmp_path, capsys, option, value, message):
    output = tmp_path / "ssv2_depth"
    arguments = {
        "--videos": str(download / "videos"),
        "--labels": str(download / "labels"),
        "--output_dir": str(output),
        "--depth_model": str(tiny_dpt),
        "--shard_size": "2",
        "--num_workers": "0",
        "--encode_threads": "1",
        option: value,
    }
    assert cli.main([text for pair in arguments.items() for text in pair]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("error: ") and message in error and len(error.splitlines()) == 1
    assert not output.exists()


def test_other_depth_settings_are_refused_on_resume_and_named_in_the_card(download, tiny_dpt, tmp_path):
    """A resume with another precision would mix two kinds of depth in one dataset: refused, naming it; the same
    model folder spelled with a trailing slash is the same model. A non-default precision is in the card."""
    output = tmp_path / "ssv2_depth"
    run = dict(splits=("validation",), **SETTINGS)
    prepare_ssv2(download / "videos", download / "labels", output, str(tiny_dpt), **run)
    assert "beyond the defaults" not in (output / "README.md").read_text()
    with pytest.raises(SSv2InputError, match=r"depth precision: 'float32' then, 'bfloat16' now\) and 2 finished"):
        prepare_ssv2(download / "videos", download / "labels", output, str(tiny_dpt), autocast_dtype="bf16", **run)
    summary = prepare_ssv2(download / "videos", download / "labels", output, str(tiny_dpt) + "/", **run)
    assert summary.shards_skipped == 2 and summary.complete

    other = tmp_path / "bf16"
    prepare_ssv2(download / "videos", download / "labels", other, str(tiny_dpt), autocast_dtype="bf16", **run)
    assert "Depth settings beyond the defaults: precision bfloat16." in (other / "README.md").read_text()
