# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""The synthetic dataset: schema, determinism, frame alignment, and the property it exists for — three
pairs of classes that RGB cannot separate and depth can."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest

av = pytest.importorskip("av")
torch = pytest.importorskip("torch")

from modeling_dear.data import synthetic as sd  # noqa: E402
from modeling_dear.data.schema import COLUMNS, video_features  # noqa: E402
from modeling_dear.data.synthetic import SyntheticSpec  # noqa: E402

SMALL = dict(
    num_train_per_class=2,
    num_validation_per_class=1,
    num_test_per_class=1,
    height=32,
    width=48,
    min_frames=6,
    max_frames=9,
)


@pytest.fixture(scope="module")
def small():
    return sd.generate_synthetic_dataset(SyntheticSpec(seed=3, **SMALL))


def _decode_rgb(data: bytes) -> np.ndarray:
    with av.open(io.BytesIO(data)) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])


def _decode_depth(data: bytes, height: int, width: int) -> np.ndarray:
    """The luma plane, where the depth lives (no colour conversion that could rescale it)."""
    planes = []
    with av.open(io.BytesIO(data)) as container:
        for frame in container.decode(video=0):
            plane = frame.planes[0]
            rows = np.frombuffer(bytes(plane), np.uint8).reshape(-1, plane.line_size)
            planes.append(rows[:height, :width])
    return np.stack(planes)


def test_schema_matches_the_package(small):
    expected = video_features(list(sd.SYNTHETIC_CLASSES))
    assert list(small) == ["train", "validation", "test"]
    for split in small.values():
        assert split.features == expected
        assert tuple(split.column_names) == COLUMNS
    assert len(small["train"]) == 2 * len(sd.SYNTHETIC_CLASSES)
    assert sorted(set(small["train"]["label"])) == list(range(len(sd.SYNTHETIC_CLASSES)))
    assert sorted(set(small["validation"]["label"])) == list(range(len(sd.SYNTHETIC_CLASSES)))
    assert set(small["test"]["label"]) == {-1}  # unlabelled like SSv2's test split
    ids = [i for split in small.values() for i in split["video_id"]]
    assert len(set(ids)) == len(ids)
    for row in small["train"]:
        name = sd.SYNTHETIC_CLASSES[row["label"]]
        assert row["template"] == name.replace("something", "[something]")
        assert row["template"].count("[something]") == len(row["placeholders"]) >= 1
        assert all(re.fullmatch(r"[a-z]+ [a-z]+", p) for p in row["placeholders"])
        assert (row["height"], row["width"], row["fps"], row["depth_model"]) == (32, 48, 12.0, "ground_truth")
        assert SMALL["min_frames"] <= row["num_frames"] <= SMALL["max_frames"]


def test_frames_are_aligned_and_depth_is_lossless(small):
    for split in small.values():
        for row in split:
            rgb = _decode_rgb(row["video"]["bytes"])
            depth = _decode_depth(row["depth"]["bytes"], row["height"], row["width"])
            assert rgb.shape == (row["num_frames"], row["height"], row["width"], 3)
            assert depth.shape == (row["num_frames"], row["height"], row["width"])
    # the stored depth is exactly what the renderer produced: the clip's seed reproduces it
    row = small["train"][5]
    clip = sd.render_clip(row["label"], sd.clip_seed(3, "train", row["label"], 0), 32, 48, 6, 9)
    np.testing.assert_array_equal(_decode_depth(row["depth"]["bytes"], 32, 48), clip.depth)
    assert clip.depth.min() == 0 and clip.depth.max() == 255  # min-max over the clip
    assert np.abs(_decode_rgb(row["video"]["bytes"]).astype(int) - clip.frames).mean() < 6  # lossy VP9, but close


def test_same_seed_same_bytes_different_seed_different_bytes(small):
    again = sd.generate_synthetic_dataset(SyntheticSpec(seed=3, **SMALL))
    other = sd.generate_synthetic_dataset(SyntheticSpec(seed=4, **SMALL))
    for name in small:
        assert small[name].data.table.equals(again[name].data.table)
        assert small[name]["video"] != other[name]["video"]
        assert small[name]["depth"] != other[name]["depth"]


def test_worker_processes_do_not_change_the_bytes(small):
    parallel = sd.generate_synthetic_dataset(SyntheticSpec(seed=3, **SMALL), num_proc=2)
    for name in small:
        assert small[name].data.table.equals(parallel[name].data.table)


def test_cache_reuses_and_card(tmp_path):
    spec = SyntheticSpec(**dict(SMALL, num_train_per_class=1, num_validation_per_class=1, num_test_per_class=1), seed=5)
    first = sd.load_or_generate_synthetic(spec, cache_dir=tmp_path)
    (entry,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert entry.name == spec.cache_key
    stamp = (entry / "dataset_dict.json").stat().st_mtime_ns
    second = sd.load_or_generate_synthetic(spec, cache_dir=tmp_path)
    assert (entry / "dataset_dict.json").stat().st_mtime_ns == stamp  # loaded, not regenerated
    assert first["train"]["video"] == second["train"]["video"]
    from huggingface_hub import DatasetCard

    card = DatasetCard.load(entry / "README.md")
    assert card.data.class_names == list(sd.SYNTHETIC_CLASSES)
    assert card.data.depth_sensitive_pairs == [list(p) for p in sd.DEPTH_SENSITIVE_PAIRS]
    assert card.data.generation["seed"] == 5
    assert "ambiguous from RGB alone" in card.text


def test_interrupted_cache_resumes_at_the_unfinished_split(tmp_path, monkeypatch):
    from modeling_dear.data.synthetic import cache

    spec = SyntheticSpec(**dict(SMALL, num_train_per_class=1, num_validation_per_class=1, num_test_per_class=1), seed=6)
    real = cache.generate_splits
    asked = []

    def interrupted(spec, splits, num_proc, progress):
        asked.append(list(splits))
        for split, dataset in real(spec, splits, num_proc, progress):
            yield split, dataset
            raise KeyboardInterrupt  # stopped after the first split

    monkeypatch.setattr(cache, "generate_splits", interrupted)
    with pytest.raises(KeyboardInterrupt):
        sd.load_or_generate_synthetic(spec, cache_dir=tmp_path)
    monkeypatch.setattr(cache, "generate_splits", lambda *a: asked.append(list(a[1])) or real(*a))
    resumed = sd.load_or_generate_synthetic(spec, cache_dir=tmp_path)
    assert asked == [["train", "validation", "test"], ["validation", "test"]]
    fresh = sd.generate_synthetic_dataset(spec)
    for name in fresh:
        assert resumed[name]["video"] == fresh[name]["video"]
    assert not any(p.name.endswith(".partial") for p in tmp_path.iterdir())


def test_command_line_writes_dataset_and_card(tmp_path, capsys):
    from datasets import load_from_disk

    out = tmp_path / "synthetic"
    args = [
        "--output",
        str(out),
        "--seed",
        "1",
        "--train-per-class",
        "1",
        "--validation-per-class",
        "0",
        "--test-per-class",
        "1",
        "--height",
        "24",
        "--width",
        "32",
        "--min-frames",
        "4",
        "--max-frames",
        "5",
    ]
    assert sd.main(args) == 0
    dataset = load_from_disk(str(out))
    assert {k: len(v) for k, v in dataset.items()} == {"train": 12, "test": 12}  # empty split left out
    assert (out / "README.md").exists() and (out / "generation.json").exists()
    assert "24 clips" in capsys.readouterr().out
    with pytest.raises(SystemExit):  # refuses to overwrite without being told
        sd.main(args)


def test_the_cards_command_re_creates_the_dataset(tmp_path):
    """The card's "re-create with" command, run as written (`python -m ...`), gives the same bytes."""
    import shlex
    import subprocess
    import sys

    from datasets import load_from_disk

    out = tmp_path / "first"
    assert (
        sd.main(
            [
                "--output",
                str(out),
                "--seed",
                "2",
                "--train-per-class",
                "1",
                "--validation-per-class",
                "0",
                "--test-per-class",
                "0",
                "--height",
                "24",
                "--width",
                "32",
                "--min-frames",
                "4",
                "--max-frames",
                "5",
                "--label-test-split",
            ]
        )
        == 0
    )
    (command,) = re.findall(r"^python -m .*$", (out / "README.md").read_text(), flags=re.MULTILINE)
    again = tmp_path / "again"
    words = [str(again) if w == "DIR" else w for w in shlex.split(command)]
    assert words[:3] == ["python", "-m", "modeling_dear.data.synthetic"] and "--label-test-split" in words
    subprocess.run([sys.executable, *words[1:]], check=True, capture_output=True)
    assert load_from_disk(str(again))["train"].data.table.equals(load_from_disk(str(out))["train"].data.table)
    assert (again / "generation.json").read_text() == (out / "generation.json").read_text()


def test_spec_is_one_frozen_checked_object():
    spec = SyntheticSpec(num_train_per_class=np.int64(3), height=32, width=48, fps=np.float32(12))
    assert (spec.num_train_per_class, spec.fps) == (3, 12.0) and type(spec.num_train_per_class) is int
    with pytest.raises(AttributeError):  # frozen: a spec cannot drift from the data it named
        spec.seed = 1
    assert SyntheticSpec(num_validation_per_class=0).splits == ["train", "test"]
    assert [SyntheticSpec().labelled(s) for s in sd.SPLITS] == [True, True, False]
    assert SyntheticSpec(label_test_split=True).labelled("test")
    with pytest.raises(ValueError, match="even height and width, got 33x48"):
        SyntheticSpec(height=33, width=48)
    with pytest.raises(ValueError, match="min_frames <= max_frames, got 9, 8"):
        SyntheticSpec(min_frames=9, max_frames=8)
    with pytest.raises(TypeError, match="expected a SyntheticSpec .* got int 24"):
        sd.generate_synthetic_dataset(24)  # the old signature's first argument
    with pytest.raises(TypeError, match="expected a SyntheticSpec"):
        sd.load_or_generate_synthetic({"seed": 0})


def test_cache_keys_did_not_change():
    """Caches written before the spec object existed stay valid: the keys of the main job's data (40 training and
    12 validation clips per class) and of the defaults are those the 13-argument functions computed."""
    assert SyntheticSpec(num_train_per_class=40, num_validation_per_class=12).cache_key == "v3-556d50351ed1d802"
    assert SyntheticSpec().cache_key == "v3-805b05903f078273"
    assert SyntheticSpec().to_dict() == {
        "generator_version": 3,
        "num_per_class": {"train": 24, "validation": 8, "test": 4},
        "seed": 0,
        "height": 96,
        "width": 128,
        "fps": 12.0,
        "min_frames": 12,
        "max_frames": 20,
        "label_test_split": False,
    }


def test_flip_pairs_differ_only_by_left_and_right():
    swap = {"left": "right", "right": "left"}
    for a, b in sd.FLIP_PAIRS:
        assert a in sd.SYNTHETIC_CLASSES and b in sd.SYNTHETIC_CLASSES
        assert re.sub(r"\b(left|right)\b", lambda m: swap[m.group(1)], a) == b
    # every other class name is free of left/right, so a flip leaves its label alone
    paired = {name for pair in sd.FLIP_PAIRS for name in pair}
    assert not any(re.search(r"\b(left|right)\b", c) for c in sd.SYNTHETIC_CLASSES if c not in paired)


def test_depth_pairs_are_pixel_identical_in_rgb():
    """With one seed the two classes of a depth-sensitive pair give the same RGB video, byte for byte,
    and a different depth video: RGB carries no information about which of the two it is."""
    assert set(sd.DEPTH_SENSITIVE_CLASSES) <= set(sd.SYNTHETIC_CLASSES)
    assert not set(sd.DEPTH_SENSITIVE_CLASSES) & set(sd.RGB_CLEAR_CLASSES)
    for a, b in sd.DEPTH_SENSITIVE_PAIRS:
        for seed in range(4):
            clip_a, clip_b = sd.render_clip(a, seed, 48, 64), sd.render_clip(b, seed, 48, 64)
            assert sd.encode_rgb(clip_a.frames) == sd.encode_rgb(clip_b.frames), (a, seed)
            changed = np.abs(clip_a.depth.astype(int) - clip_b.depth).max(axis=(1, 2))
            assert (changed > 20).any(), (a, seed)


# --------------------------------------------------------------------------------------------------- probe
# A tiny 3-D CNN, cross-validated within each pair, on RGB or on depth. The classes of a pair are drawn
# with independent seeds, so this measures what a learner can get from each modality's distribution.

PROBE_FRAMES = 8


def _probe_input(clip: sd.SyntheticClip, modality: str) -> np.ndarray:
    x = clip.frames.transpose(0, 3, 1, 2) if modality == "rgb" else clip.depth[:, None]
    x = x[np.round(np.linspace(0, len(x) - 1, PROBE_FRAMES)).astype(int)].astype(np.float32) / 255.0
    # the clip minus its time average: the still backdrop drops out, what moves or differs stands out
    return np.concatenate([x, x - x.mean(0, keepdims=True)], 1).transpose(1, 0, 2, 3)


def _probe_accuracy(clips_a, clips_b, modality: str, folds: int = 3, steps: int = 50) -> float:
    from torch import nn

    x = torch.tensor(np.stack([_probe_input(c, modality) for pair in zip(clips_a, clips_b, strict=True) for c in pair]))
    y = torch.tensor([0, 1] * len(clips_a))
    fold = (torch.arange(len(y)) // 2) % folds
    correct = 0
    for k in range(folds):
        torch.manual_seed(k)
        model = nn.Sequential(
            nn.Conv3d(x.shape[1], 8, 3, stride=(1, 2, 2), padding=1),
            nn.ReLU(),
            nn.Conv3d(8, 16, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.AdaptiveMaxPool3d((4, 1, 1)),
            nn.Flatten(),
            nn.Linear(64, 2),
        )
        optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
        train = fold != k
        for _ in range(steps):
            loss = nn.functional.cross_entropy(model(x[train]), y[train])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        with torch.no_grad():
            correct += (model(x[~train]).argmax(1) == y[~train]).sum().item()
    return correct / len(y)


def test_rgb_cannot_tell_the_depth_pairs_apart_but_depth_can():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: threads only add overhead on a shared machine
    try:
        n = 32

        def clips(name):
            label = sd.SYNTHETIC_CLASSES.index(name)
            return [sd.render_clip(name, np.random.SeedSequence([11, label, i]), 24, 32) for i in range(n)]

        results = {}
        for a, b in sd.DEPTH_SENSITIVE_PAIRS:
            clips_a, clips_b = clips(a), clips(b)
            results[a] = (_probe_accuracy(clips_a, clips_b, "rgb"), _probe_accuracy(clips_a, clips_b, "depth"))
        flip_a, flip_b = sd.FLIP_PAIRS[0]
        control = _probe_accuracy(clips(flip_a), clips(flip_b), "rgb")
    finally:
        torch.set_num_threads(threads)
    print({k: tuple(round(v, 3) for v in r) for k, r in results.items()}, "control", control)
    # 64 held-out predictions per pair (every clip once, by 3-fold cross-validation): chance is 0.5 +- 0.0625
    for name, (rgb, depth) in results.items():
        assert rgb <= 0.7, (name, rgb)
        assert depth >= 0.85, (name, depth)
        assert depth - rgb >= 0.25, (name, rgb, depth)
    assert control >= 0.8  # the probe does learn from RGB when RGB holds the answer
