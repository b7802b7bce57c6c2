# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""`video` and `depth` are stored as `datasets.Video(decode=False)`: the Hub's viewer shows them, and reading
them back gives the written bytes, offline and without torchcodec."""

import numpy as np
import pytest
from conftest import run_without_package

from modeling_dear.data.schema import video_features
from modeling_dear.video_io import encode_depth_video, encode_video, probe_video

CLASSES = ["a", "b"]


@pytest.fixture(scope="module")
def rows():
    rng = np.random.default_rng(0)
    made = []
    for index in range(2):
        frames = rng.integers(0, 255, size=(6, 32, 32, 3), dtype=np.uint8)
        made.append(
            {
                "video_id": str(index),
                "video": encode_video(frames, codec="libx264"),
                "depth": encode_depth_video(frames[..., 0]),
                "label": index,
                "template": CLASSES[index],
                "placeholders": [],
                "num_frames": 6,
                "fps": 12.0,
                "height": 32,
                "width": 32,
                "depth_model": "ground_truth",
            }
        )
    return made


def test_video_columns_are_undecoded_videos_that_round_trip_through_parquet(rows, tmp_path):
    import datasets

    features = video_features(CLASSES)
    assert features["video"] == datasets.Video(decode=False) and features["depth"] == datasets.Video(decode=False)
    (tmp_path / "data").mkdir()
    datasets.Dataset.from_list(rows, features=features).to_parquet(
        str(tmp_path / "data" / "train-00000-of-00001.parquet")
    )
    # a fresh process, offline, without this package, where torchcodec cannot be imported (it is not installed
    # here either)
    script = f"""
        sys.modules["torchcodec"] = None  # import fails, find_spec says absent
        import datasets
        loaded = datasets.load_dataset({str(tmp_path)!r}, split="train")
        assert loaded.features["video"] == datasets.Video(decode=False), loaded.features
        for row in loaded:
            print(row["video"]["bytes"].hex(), row["depth"]["bytes"].hex())
        """
    result = run_without_package(script, tmp_path, env={"HF_DATASETS_OFFLINE": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    read_back = [line.split(" ") for line in result.stdout.splitlines()]
    assert [(bytes.fromhex(v), bytes.fromhex(d)) for v, d in read_back] == [
        (row["video"], row["depth"]) for row in rows
    ]


def test_processor_and_video_io_take_the_rows_as_they_come(rows):
    import datasets

    from modeling_dear import DearVideoProcessor

    dataset = datasets.Dataset.from_list(rows, features=video_features(CLASSES))
    row = dataset[0]
    assert set(row["video"]) == {"bytes", "path"}
    assert probe_video(row["video"]).num_frames == probe_video(rows[0]["video"]).num_frames == 6
    processor = DearVideoProcessor(num_frames=4, size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    from_rows = processor([row["video"]], depth=[row["depth"]], mode="val")
    from_bytes = processor([rows[0]["video"]], depth=[rows[0]["depth"]], mode="val")
    np.testing.assert_array_equal(from_rows["pixel_values"], from_bytes["pixel_values"])
    np.testing.assert_array_equal(from_rows["depth_pixel_values"], from_bytes["depth_pixel_values"])
    with pytest.raises(ValueError, match="neither bytes nor path"):
        probe_video({"bytes": None, "path": None})


def test_a_modality_column_is_named_after_the_modality():
    import datasets

    features = video_features(CLASSES, modalities=["rgb", "flow"])
    assert (
        features["flow"] == datasets.Video(decode=False) and "depth" not in features and "depth_model" not in features
    )
    assert list(video_features(CLASSES)) == list(video_features(CLASSES, modalities=["rgb", "depth"]))
