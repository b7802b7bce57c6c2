# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""The preparation engine (`modeling_dear.data.prepare`) on a source built by hand: two long generated videos
with several segments each (one H.264 with a keyframe every 8 frames, so reading a segment seeks) and whole
clips, a tiny random DPT. Segments stored as clips of their own with aligned depth, one open per file and
shard, streaming, the report, interruption and resume, damaged shards, option and plan checks.

Why one module: one fixture source and one prepared folder serve every engine test, from the rows through
resume and damaged shards to the refused settings.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("av")
torch = pytest.importorskip("torch")

from modeling_dear.data.prepare import REPORT_FILE, SourceJob, prepare_dataset  # noqa: E402
from modeling_dear.data.sources.base import ClipEntry, SourceData, SourceInputError  # noqa: E402
from modeling_dear.video_io import encode_video, open_video, read_depth_frames  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")

CLASSES = ["open", "close", "pour"]
SETTINGS = dict(shard_size=3, batch_size=8, num_workers=0, encode_threads=1, progress=False, poll_seconds=0.1)
LONG_FRAMES = 40


def _long_videos(root: Path, make_frames) -> dict[str, Path]:
    first = root / "kitchen_01.mp4"  # H.264, a keyframe every 8 frames: segments after the first seek
    first.write_bytes(
        encode_video(make_frames(LONG_FRAMES, 32, 48, seed=1), fps=10.0, codec="libx264", options={"g": "8"})
    )
    second = root / "kitchen_02.webm"  # VP9
    second.write_bytes(encode_video(make_frames(LONG_FRAMES, 32, 48, seed=2), fps=10.0))
    return {"first": first, "second": second}


def make_source(root: Path, make_frames) -> SourceData:
    from datasets import Value

    root.mkdir(parents=True, exist_ok=True)
    long = _long_videos(root, make_frames)
    whole = []
    for k in range(2):
        path = root / f"clip_{k}.webm"
        path.write_bytes(encode_video(make_frames(6 + k, 32, 48, seed=10 + k), fps=12.0))
        whole.append(path)

    def segment(clip_id, path, start, end, label, unit="seconds", who="P01"):
        return ClipEntry(clip_id, str(path), {"label": label}, start, end, unit, (("participant", who),))

    train = [
        segment("k1_a", long["first"], 0.0, 1.2, 0),  # frames 0..11
        segment("k1_b", long["first"], 1.5, 2.3, 1),  # frames 15..22: seeks to keyframe 8 (or decodes on)
        segment("k1_c", long["first"], 30, 40, 2, unit="frames"),  # the last keyframe run
        segment("k2_a", long["second"], 0.5, 1.5, 2, who="P02"),
        segment("k2_b", long["second"], 2.0, 3.0, 0, who="P02"),
        ClipEntry("w0", str(whole[0]), {"label": 1}, extra=(("participant", "P03"),)),
    ]
    validation = [
        segment("k2_c", long["second"], 3.0, 4.0, 1, who="P02"),  # its end is the video's end
        ClipEntry("w1", str(whole[1]), {"label": 0}, extra=(("participant", "P03"),)),
    ]
    return SourceData(
        format="segments",
        label_sets={"label": CLASSES},
        splits={"train": train, "validation": validation},
        extra_features={"participant": Value("string")},
        license="cc-by-4.0",
        description="generated kitchen videos",
        skipped=[{"file": "annotations.csv", "line": 9, "reason": "no such video"}],
    )


def _expected_frames(entry: ClipEntry) -> np.ndarray:
    video = open_video(entry.path)
    fps = video.info.fps
    if entry.time_unit == "frames":
        start, end = int(entry.start), int(entry.end)
    else:
        start, end = int(np.ceil(entry.start * fps - 1e-6)), min(int(np.ceil(entry.end * fps - 1e-6)), LONG_FRAMES)
    return video.read(np.arange(start, end))


def _load(folder: Path, cache: Path):
    import datasets

    return datasets.load_dataset(str(folder), cache_dir=str(cache))


@pytest.fixture(scope="module")
def source(tmp_path_factory, make_frames):
    return make_source(tmp_path_factory.mktemp("source"), make_frames)


@pytest.fixture(scope="module")
def prepared(source, tiny_dpt, tmp_path_factory):
    output = tmp_path_factory.mktemp("out") / "depth"
    summary = prepare_dataset(source, output, str(tiny_dpt), **SETTINGS)
    return output, summary, _load(output, tmp_path_factory.mktemp("cache"))


def test_segments_become_clips_with_aligned_depth(prepared, source, tiny_dpt):
    from modeling_dear.data.schema import prepared_features
    from modeling_dear.depth_estimation import DepthEstimator

    output, summary, dataset = prepared
    assert summary.complete and summary.totals["rows"] == {"train": 6, "validation": 2}
    features = prepared_features({"label": CLASSES}, source.extra_features)
    estimator = DepthEstimator(str(tiny_dpt), device="cpu", batch_size=8)
    entries = {e.clip_id: e for split in source.splits.values() for e in split}
    for split in dataset.values():
        assert split.features == features
        assert split.column_names == list(features)
        for row in split:
            entry = entries[row["video_id"]]
            assert row["label"] == entry.labels["label"] and row["participant"] == dict(entry.extra)["participant"]
            expected = _expected_frames(entry) if entry.is_segment else open_video(entry.path).read(np.arange(6))
            stored = open_video(row["video"])
            assert stored.info.num_frames == row["num_frames"] == open_video(row["depth"]).info.num_frames
            if entry.is_segment:
                assert len(expected) == row["num_frames"]
                # the segment's own RGB video: H.264 at crf 17, close to the source's frames
                error = np.abs(stored.read(np.arange(row["num_frames"])).astype(int) - expected.astype(int)).mean()
                assert error < 3.0, error
                assert stored.info.codec == "h264"
            else:
                assert row["video"]["bytes"] == Path(entry.path).read_bytes()  # whole clips as they are
                expected = open_video(entry.path).read(np.arange(row["num_frames"]))
            # depth from the source's decoded frames, stored losslessly
            depth = read_depth_frames(row["depth"], np.arange(row["num_frames"]), size=(32, 48))
            np.testing.assert_array_equal(depth, estimator.estimate_clips([expected])[0])
    assert dataset["train"].filter(lambda r: r["video_id"] == "k1_c")[0]["num_frames"] == 10

    report = json.loads((output / REPORT_FILE).read_text())
    assert report["failed"] == [] and report["missing"] == [] and report["source_format"] == "segments"
    assert report["skipped"] == source.skipped
    assert report["settings"]["source_segment_video"]["options"]["crf"] == "17"
    card = (output / "README.md").read_text()
    for text in ("segments", "cc-by-4.0", str(tiny_dpt), "precision: float32", "crf", '"size": [32, 32]'):
        assert text in card, text


def test_a_long_video_is_opened_once_per_shard(source, tiny_dpt, tmp_path, monkeypatch):
    import modeling_dear.data.prepare.decoding as decoding

    opened = []
    original = decoding.SegmentReader

    class Counting(original):
        def __init__(self, path):
            opened.append(Path(path).name)
            super().__init__(path)

    monkeypatch.setattr(decoding, "SegmentReader", Counting)
    prepare_dataset(source, tmp_path / "out", str(tiny_dpt), **{**SETTINGS, "shard_size": 6})
    # train is one shard of 5 segments (3 of kitchen_01, 2 of kitchen_02); validation one of 1 segment
    assert sorted(opened) == ["kitchen_01.mp4", "kitchen_02.webm", "kitchen_02.webm"]


def test_streamed_segments_store_the_same_rows(prepared, source, tiny_dpt, tmp_path, monkeypatch):
    import modeling_dear.data.prepare.shards as shards

    monkeypatch.setattr(shards, "STREAM_ABOVE_FRAMES", 4)
    monkeypatch.setattr(shards, "STREAM_CHUNK_FRAMES", 2)
    output = tmp_path / "out"
    summary = prepare_dataset(source, output, str(tiny_dpt), **{**SETTINGS, "batch_size": 2})
    assert summary.complete and not list((output / ".prepare").rglob("*.depth.*"))
    dataset = _load(output, tmp_path / "cache")
    expected = prepared[2]
    for split in expected:
        assert dataset[split]["video_id"] == expected[split]["video_id"]
        assert dataset[split]["depth"] == expected[split]["depth"]
        assert dataset[split]["video"] == expected[split]["video"]


def test_segments_outside_their_video(source, tiny_dpt, tmp_path):
    long = source.splits["train"][0].path
    past = ClipEntry("late", long, {"label": 0}, 3.0, 9.0, extra=(("participant", "P01"),))
    frames_past = ClipEntry("late2", long, {"label": 0}, 35, 41, "frames", (("participant", "P01"),))
    fine = source.splits["train"][0]
    bad = SourceData("segments", {"label": CLASSES}, {"train": [fine, past, frames_past]}, source.extra_features)
    output = tmp_path / "out"
    summary = prepare_dataset(bad, output, str(tiny_dpt), **SETTINGS)
    assert summary.totals["rows"] == {"train": 1} and summary.totals["failed"] == 2
    report = json.loads((output / REPORT_FILE).read_text())
    errors = {f["id"]: f["error"] for f in report["failed"]}
    assert "segment late (3.0 to 9.0 seconds): ends past the video's end (40 frames, 4.00 s)" in errors["late"]
    assert "segment late2 (35 to 41 frames): ends past the video's end" in errors["late2"]

    backwards = ClipEntry("back", long, {"label": 0}, 2.0, 1.0, extra=(("participant", "P01"),))
    twice = SourceData("segments", {"label": CLASSES}, {"train": [fine, backwards]}, source.extra_features)
    with pytest.raises(SourceInputError, match=r"segment back ends \(1.0 seconds\) at or before its start \(2.0\)"):
        prepare_dataset(twice, tmp_path / "other", str(tiny_dpt), **SETTINGS)
    duplicate = SourceData("segments", {"label": CLASSES}, {"train": [fine, fine]}, source.extra_features)
    with pytest.raises(SourceInputError, match=r"clip id 'k1_a' appears twice in the train split"):
        SourceJob(duplicate)
    assert not (tmp_path / "other").exists()


class InterruptingEstimator:
    """A DepthEstimator stand-in that counts the frames it is given and raises KeyboardInterrupt (Ctrl-C) at
    its n-th call."""

    def __init__(self, model_path, interrupt_at_call: int | None = None):
        from modeling_dear.depth_estimation import DepthEstimator

        self.inner = DepthEstimator(model_path, device="cpu", batch_size=8)
        self.name, self.normalize = self.inner.name, self.inner.normalize
        self.interrupt_at_call = interrupt_at_call
        self.calls = 0
        self.clips: list[int] = []

    def estimate_clips(self, clips, normalize=None):
        self.calls += 1
        if self.calls == self.interrupt_at_call:
            raise KeyboardInterrupt
        self.clips.extend(len(c) for c in clips)
        return self.inner.estimate_clips(clips, normalize)


def test_resume_after_interruption(prepared, source, tiny_dpt, tmp_path):
    output = tmp_path / "out"
    # train-00000 (k1_a, k1_b, k1_c) is estimated at call 1; Ctrl-C arrives at call 2, in train-00001
    with pytest.raises(KeyboardInterrupt):
        prepare_dataset(source, output, InterruptingEstimator(tiny_dpt, interrupt_at_call=2), **SETTINGS)
    first = output / "data" / "train-00000-of-00002.parquet"
    assert first.exists() and not (output / "data" / "train-00001-of-00002.parquet").exists()
    assert not (output / "README.md").exists()
    stamp = first.stat().st_mtime_ns

    resumed = InterruptingEstimator(tiny_dpt)
    summary = prepare_dataset(source, output, resumed, **SETTINGS)
    assert first.stat().st_mtime_ns == stamp  # the finished shard was not rewritten
    assert len(resumed.clips) == 8 - 3 and (summary.shards_skipped, summary.videos_skipped) == (1, 3)
    dataset = _load(output, tmp_path / "cache")
    for split in prepared[2]:
        assert dataset[split]["video_id"] == prepared[2][split]["video_id"]
        assert dataset[split]["depth"] == prepared[2][split]["depth"]
        assert dataset[split]["video"] == prepared[2][split]["video"]


@pytest.mark.parametrize("damage", ["cut", "altered"])
def test_a_damaged_finished_shard_is_redone(prepared, source, tiny_dpt, tmp_path, damage):
    output = tmp_path / "out"
    shutil.copytree(prepared[0], output)
    shard = output / "data" / "train-00001-of-00002.parquet"
    whole = shard.read_bytes()
    if damage == "cut":
        shard.write_bytes(whole[: len(whole) // 2])
    else:  # same length, one byte changed in the middle
        middle = len(whole) // 2
        shard.write_bytes(whole[:middle] + bytes([whole[middle] ^ 0xFF]) + whole[middle + 1 :])
    summary = prepare_dataset(source, output, str(tiny_dpt), **SETTINGS)
    assert summary.shards_done == 1 and summary.shards_skipped == 2
    assert shard.read_bytes() == whole


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("batch_size", 0, "--batch_size 0: must be an integer of at least 1"),
        ("num_workers", -1, "--num_workers -1: must be an integer of at least 0"),
        ("shard_size", 0, "--shard_size 0: must be an integer of at least 1"),
        ("encode_threads", 0, "--encode_threads 0: must be an integer of at least 1"),
        ("depth_codec_options", {"crf": "-1"}, "crf='-1' (--depth_crf): must be a number in 0..51"),
        (
            "depth_codec_options",
            {"crf": "52", "preset": "veryfast"},
            "crf='52' (--depth_crf): must be a number in 0..51",
        ),
    ],
)
def test_values_that_cannot_be_right_write_nothing(source, tmp_path, option, value, message):
    with pytest.raises(SourceInputError) as caught:
        prepare_dataset(source, tmp_path / "out", "unused", **{**SETTINGS, option: value})
    assert message in str(caught.value) and len(str(caught.value).splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_a_resume_with_other_depth_settings_is_refused(prepared, source, tiny_dpt, tmp_path):
    output = tmp_path / "out"
    shutil.copytree(prepared[0], output)
    before = {p.name: p.stat().st_mtime_ns for p in (output / "data").iterdir()}
    with pytest.raises(SourceInputError, match=r"depth precision: 'float32' then, 'bfloat16' now"):
        prepare_dataset(source, output, str(tiny_dpt), autocast_dtype="bf16", **SETTINGS)
    with pytest.raises(SourceInputError, match=r"normalize: 'clip' then, 'frame' now"):
        prepare_dataset(source, output, str(tiny_dpt), normalize="frame", **SETTINGS)
    # new weights in the same folder
    changed = tmp_path / "dpt"
    shutil.copytree(tiny_dpt, changed)
    from modeling_dear.testing_utils import save_tiny_dpt

    moved = tmp_path / "moved"
    shutil.copytree(prepared[0], moved)
    # the same model spelled with a trailing slash, or from a copy elsewhere: the same files, accepted
    summary = prepare_dataset(source, moved, str(tiny_dpt) + "/", **SETTINGS)
    assert summary.shards_skipped == 3 and summary.complete
    summary = prepare_dataset(source, moved, str(changed), **SETTINGS)
    assert summary.shards_skipped == 3
    save_tiny_dpt(changed, seed=1)
    with pytest.raises(SourceInputError, match=r"depth model files \(.*dpt\): sha256 .* then, .* now \(the weights"):
        prepare_dataset(source, moved, str(changed), **SETTINGS)
    assert {p.name: p.stat().st_mtime_ns for p in (output / "data").iterdir()} == before
    assert json.loads((moved / ".prepare" / "plan.json").read_text())["depth_model"] == str(tiny_dpt)


TWO_PROCESS_SCRIPT = """
import pickle, sys
import torch
from modeling_dear.data.prepare import prepare_dataset

torch.set_num_threads(1)
source_file, output, model = sys.argv[1:4]
with open(source_file, "rb") as handle:
    source = pickle.load(handle)
summary = prepare_dataset(source, output, model, shard_size=2, batch_size=8, num_workers=0, encode_threads=1,
                          progress=False, poll_seconds=0.1)
print(f"process {summary.process_index}: {summary.shards_done} shards, complete={summary.complete}")
"""


@pytest.mark.slow  # two launched processes, each importing torch, transformers and datasets (~20 s)
def test_two_processes_share_the_shards(prepared, source, tiny_dpt, tmp_path):
    """`accelerate launch` with two real processes (the shipped multi_cpu_2 config): each takes every other
    shard, the main one waits for the other's manifests and writes the card; the rows are those of one process."""
    import os
    import pickle
    import subprocess
    import sys

    from conftest import free_port

    root = Path(__file__).resolve().parents[1]
    (tmp_path / "source.pkl").write_bytes(pickle.dumps(source))
    (tmp_path / "run.py").write_text(TWO_PROCESS_SCRIPT)
    output = tmp_path / "out"
    command = [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--config_file",
        str(root / "configuration" / "accelerate" / "multi_cpu_2.yaml"),
        "--main_process_port",
        str(free_port()),
        str(tmp_path / "run.py"),
        str(tmp_path / "source.pkl"),
        str(output),
        str(tiny_dpt),
    ]
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(command, cwd=root, env=environment, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    manifests = [json.loads(p.read_text()) for p in (output / ".prepare" / "shards").glob("*.json")]
    assert sorted({m["process"] for m in manifests}) == [0, 1]  # both processes did shards
    assert "process 0:" in result.stdout and "complete=True" in result.stdout
    dataset = _load(output, tmp_path / "cache")
    for split in prepared[2]:
        assert dataset[split]["video_id"] == prepared[2][split]["video_id"]
        assert dataset[split]["depth"] == prepared[2][split]["depth"]
        assert dataset[split]["video"] == prepared[2][split]["video"]


def test_a_plan_written_before_depth_settings_were_recorded_still_resumes(prepared, source, tiny_dpt, tmp_path):
    output = tmp_path / "out"
    shutil.copytree(prepared[0], output)
    plan_file = output / ".prepare" / "plan.json"
    plan = json.loads(plan_file.read_text())
    del plan["depth_settings"]  # as the SSv2 preparation wrote it before
    plan_file.write_text(json.dumps(plan))
    summary = prepare_dataset(source, output, str(tiny_dpt), **SETTINGS)
    assert summary.shards_skipped == 3 and summary.complete
    with pytest.raises(SourceInputError, match=r"depth_model: '.*tiny-dpt.*' then, 'other-model' now"):
        prepare_dataset(source, output, _Named(), **SETTINGS)


class _Named:
    name, normalize = "other-model", "clip"

    def estimate_clips(self, clips, normalize=None):
        raise AssertionError("refused before any work")
