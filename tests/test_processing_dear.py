# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""DearVideoProcessor: inputs of every kind, modes, RGB/depth alignment, labels, save/load, errors."""

import json

import numpy as np
import pytest
import torch
from PIL import Image
from transformers import AutoImageProcessor

from modeling_dear.processing_dear import DearVideoProcessor
from modeling_dear.video_io import VideoDecodingError, encode_depth_video, encode_video

T = 4


@pytest.fixture(scope="module")
def clip(make_frames):
    frames = make_frames(20, 48, 64)
    depth = frames[..., 1].copy()
    return {
        "frames": frames,
        "depth": depth,
        "video": encode_video(frames),
        "depth_video": encode_depth_video(depth),
    }


@pytest.fixture
def processor():
    return DearVideoProcessor(num_frames=T)


def test_defaults():
    p = DearVideoProcessor()
    assert p.num_frames == 8 and p.crop_size == {"height": 224, "width": 224}
    assert p.train_size == {"height": 256, "width": 320} and p.size == {"shortest_edge": 224}
    assert p.image_mean == [0.48145466, 0.4578275, 0.40821073] and p.image_std == [0.26862954, 0.26130258, 0.27577711]
    assert p.depth_colormap == "inferno" and p.sampling == "segment"
    assert (p.randaugment_magnitude, p.randaugment_num_ops) == (7.0, 4)
    assert p.flip_label_pairs == [[86, 87], [93, 94], [166, 167]] and p.num_views == 6


def test_input_kinds_give_the_same_clip(processor, clip, tmp_path):
    path = tmp_path / "v.webm"
    path.write_bytes(clip["video"])
    decoded = processor(clip["video"], mode="val")["pixel_values"]
    assert decoded.shape == (1, T, 3, 224, 224) and decoded.dtype == torch.float32
    torch.testing.assert_close(processor(str(path), mode="val")["pixel_values"], decoded, rtol=0, atol=0)
    frames = clip["frames"]
    from_array = processor(frames, mode="val")
    assert from_array["frame_indices"].tolist() == [[2, 7, 12, 17]]
    from_pil = processor([Image.fromarray(f) for f in frames], mode="val")["pixel_values"]
    torch.testing.assert_close(from_pil, from_array["pixel_values"], rtol=0, atol=0)
    from_tensor = processor(torch.from_numpy(frames), mode="val")["pixel_values"]
    torch.testing.assert_close(from_tensor, from_array["pixel_values"], rtol=0, atol=0)
    batch = processor([clip["video"], frames, str(path)], mode="val")
    assert batch["pixel_values"].shape == (3, T, 3, 224, 224) and batch["frame_indices"].shape == (3, T)
    assert processor(np.stack([frames, frames]), mode="val")["pixel_values"].shape == (2, T, 3, 224, 224)


@pytest.mark.parametrize("mode", ["train", "val", "test"])
def test_depth_is_aligned_with_rgb(make_frames, mode):
    # grey RGB frames equal to the depth maps, depth shown as grey: every view must match exactly,
    # which holds only if both used the same frame indices, resize, crop and flip
    depth = make_frames(20, 48, 64)[..., 2].copy()
    rgb = np.repeat(depth[..., None], 3, axis=-1)
    p = DearVideoProcessor(num_frames=T, depth_colormap="gray", randaugment_num_ops=0)
    for seed in range(4):
        out = p([rgb, rgb[:18]], depth=[depth, depth[:18]], mode=mode, seed=seed)
        torch.testing.assert_close(out["depth_pixel_values"], out["pixel_values"], rtol=0, atol=0)


def test_depth_videos_follow_their_rgb_videos(processor, clip):
    out = processor([clip["video"]], depth=[clip["depth_video"]], mode="train", seed=0)
    assert out["depth_pixel_values"].shape == out["pixel_values"].shape == (1, T, 3, 224, 224)
    # depth decoded from its video equals depth given as arrays (the depth codec is lossless)
    as_arrays = processor([clip["video"]], depth=[clip["depth"]], mode="train", seed=0)
    torch.testing.assert_close(out["depth_pixel_values"], as_arrays["depth_pixel_values"], rtol=0, atol=0)
    torch.testing.assert_close(out["pixel_values"], as_arrays["pixel_values"], rtol=0, atol=0)
    # inferno colouring is applied before normalisation: the three channels differ
    assert not torch.equal(out["depth_pixel_values"][:, :, 0], out["depth_pixel_values"][:, :, 1])


def test_train_flip_swaps_left_right_labels(clip):
    labels = [86, 87, 94, 166, 3]
    videos = [clip["frames"]] * len(labels)
    flipped = DearVideoProcessor(num_frames=T, flip_prob=1.0)(videos, labels=labels, mode="train", seed=0)
    assert flipped["labels"].tolist() == [87, 86, 93, 167, 3]
    kept = DearVideoProcessor(num_frames=T, flip_prob=0.0)(videos, labels=labels, mode="train", seed=0)
    assert kept["labels"].tolist() == labels
    val = DearVideoProcessor(num_frames=T, flip_prob=1.0)(videos, labels=labels, mode="val")
    assert val["labels"].tolist() == labels  # never flipped outside training
    custom = DearVideoProcessor(num_frames=T, flip_prob=1.0, id2label={0: "go left", 1: "go right", 2: "stay"})
    assert custom(videos[:3], labels=[0, 1, 2], mode="train", seed=0)["labels"].tolist() == [1, 0, 2]


def test_train_randomness_follows_the_seed(processor, clip):
    a = processor(clip["video"], mode="train", seed=7)
    b = processor(clip["video"], mode="train", seed=7)
    c = processor(clip["video"], mode="train", seed=8)
    torch.testing.assert_close(a["pixel_values"], b["pixel_values"], rtol=0, atol=0)
    assert a["frame_indices"].tolist() == b["frame_indices"].tolist()
    assert not torch.equal(a["pixel_values"], c["pixel_values"])


def test_test_mode_views(processor, clip):
    out = processor(
        [clip["video"], clip["frames"]], depth=[clip["depth_video"], clip["depth"]], mode="test", labels=[1, 2]
    )
    assert out["pixel_values"].shape == (12, T, 3, 224, 224)
    assert out["depth_pixel_values"].shape == (12, T, 3, 224, 224)
    assert int(out["num_views"]) == 6 and out["labels"].tolist() == [1, 2]
    indices = out["frame_indices"].tolist()
    # per video: clip 0 (1/4 of each segment) × left/centre/right, then clip 1 (3/4)
    assert indices[:6] == [[1, 6, 11, 16]] * 3 + [[3, 8, 13, 18]] * 3
    assert indices[6:] == indices[:6]
    views = out["pixel_values"][:3]
    assert not torch.equal(views[0], views[1]) and not torch.equal(views[1], views[2])


def test_short_video_file_and_stride_sampling(make_frames):
    short = encode_video(make_frames(3, 48, 64))
    out = DearVideoProcessor(num_frames=T)(short, mode="val")
    assert out["frame_indices"].tolist() == [[0, 0, 1, 2]]
    stride = DearVideoProcessor(num_frames=T, sampling="stride", frame_stride=3)
    assert stride(make_frames(20, 48, 64), mode="val")["frame_indices"].tolist() == [[5, 8, 11, 14]]


def test_save_and_load_round_trip(tmp_path, clip):
    p = DearVideoProcessor(num_frames=T, depth_colormap="gray", randaugment_magnitude=9, flip_label_pairs=[[0, 1]])
    p.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "preprocessor_config.json").read_text())
    assert config["image_processor_type"] == "DearVideoProcessor" and config["num_frames"] == T
    assert config["auto_map"] == {"AutoImageProcessor": "processing_dear.DearVideoProcessor"}
    assert (tmp_path / "processing_dear.py").exists()  # the code travels with the folder
    for loaded in (DearVideoProcessor.from_pretrained(tmp_path), AutoImageProcessor.from_pretrained(tmp_path)):
        assert isinstance(loaded, DearVideoProcessor)
        assert loaded.to_dict() == p.to_dict()
        for mode in ("train", "val"):
            a = p(clip["video"], depth=clip["depth_video"], labels=0, mode=mode, seed=3)
            b = loaded(clip["video"], depth=clip["depth_video"], labels=0, mode=mode, seed=3)
            assert a.keys() == b.keys()
            for key in a:
                torch.testing.assert_close(a[key], b[key], rtol=0, atol=0)
    assert DearVideoProcessor.from_pretrained(tmp_path, num_frames=6).num_frames == 6


def test_return_numpy(processor, clip):
    out = processor(clip["frames"], mode="val", return_tensors="np")
    assert isinstance(out["pixel_values"], np.ndarray) and out["pixel_values"].dtype == np.float32


def test_errors_name_the_video(processor, clip, make_frames):
    with pytest.raises(VideoDecodingError, match=r"^videos\[1\]: has 3 decoded frames, 4 are needed"):
        processor([clip["frames"], clip["frames"][:3]])
    with pytest.raises(VideoDecodingError, match="^clip-42: not a readable video container"):
        processor([clip["video"], b"garbage" * 50], names=["clip-41", "clip-42"])
    with pytest.raises(VideoDecodingError, match="^clip-41: truncated"):
        processor([clip["video"][: len(clip["video"]) // 2]], names=["clip-41"])
    with pytest.raises(VideoDecodingError, match="depth has 19 frames but the RGB video has 20"):
        processor(clip["video"], depth=encode_depth_video(clip["depth"][:19]))
    with pytest.raises(VideoDecodingError, match="depth has 19 frames but the RGB video has 20"):
        processor(clip["frames"], depth=clip["depth"][:19])
    with pytest.raises(VideoDecodingError, match="expected \\(T, H, W, 3\\) uint8 RGB"):
        processor(clip["frames"].astype(np.float32))
    with pytest.raises(ValueError, match="mode"):
        processor(clip["frames"], mode="eval")
    with pytest.raises(ValueError, match="depth_colormap"):
        DearVideoProcessor(depth_colormap="jet")
    with pytest.raises(ValueError, match="labels"):
        processor([clip["frames"]] * 2, labels=[1])


# --------------------------------------------------------------------------- modalities beyond RGB and depth


@pytest.mark.parametrize("mode", ["train", "val", "test"])
def test_another_modality_is_aligned_with_rgb_and_normalised_like_it(make_frames, mode):
    # "flow" frames equal to the RGB frames: every view must match exactly (same indices, resize, crop, flip);
    # single-channel frames are repeated to three
    rgb = make_frames(20, 48, 64)
    grey = rgb[..., :1].copy()
    p = DearVideoProcessor(num_frames=T, randaugment_num_ops=0, modalities=["rgb", "depth", "flow", "infrared"])
    for seed in range(3):
        out = p([rgb, rgb[:18]], flow=[rgb, rgb[:18]], infrared=[grey, grey[:18]], mode=mode, seed=seed)
        torch.testing.assert_close(out["flow_pixel_values"], out["pixel_values"], rtol=0, atol=0)
        like_rgb = p(np.repeat(grey, 3, axis=-1), mode=mode, seed=seed)["pixel_values"]
        torch.testing.assert_close(out["infrared_pixel_values"][: len(like_rgb)], like_rgb, rtol=0, atol=0)
    # with RandAugment the geometric ops move both alike and the photometric ones are RGB's only
    out = DearVideoProcessor(num_frames=T, randaugment_magnitude=9, modalities=["rgb", "flow"])(
        rgb, flow=rgb, mode="train", seed=1
    )
    assert out["flow_pixel_values"].shape == out["pixel_values"].shape == (1, T, 3, 224, 224)


def test_another_modality_from_files_depth_beside_it_and_its_size(clip, make_frames):
    p = DearVideoProcessor(num_frames=T, modalities=["rgb", "depth", "flow"])
    small = make_frames(20, 24, 32, seed=3)
    both = p(clip["video"], depth=clip["depth_video"], flow=encode_video(small), mode="val")
    assert set(both) == {"pixel_values", "depth_pixel_values", "flow_pixel_values", "frame_indices"}
    # depth is untouched by the other modality
    torch.testing.assert_close(
        both["depth_pixel_values"], p(clip["video"], depth=clip["depth_video"], mode="val")["depth_pixel_values"]
    )
    # flow frames of another size are resized to the RGB frames' size before the shared crop
    from modeling_dear.video_transforms import resize_clip

    as_big = p(clip["frames"], flow=resize_clip(small, (48, 64)), mode="val")["flow_pixel_values"]
    torch.testing.assert_close(p(clip["frames"], flow=small, mode="val")["flow_pixel_values"], as_big, rtol=0, atol=0)


def test_modalities_are_saved_and_unknown_ones_refused(tmp_path, clip):
    from modeling_dear import DearConfig

    config = DearConfig.from_preset(
        "tiny-s4v-rgb",
        encoders=["rgb_side4video", "flow_s4v"],
        encoder_configs={"flow_s4v": {"type": "side4video", "modality": "flow"}},
        id2label={0: "push left", 1: "push right"},
    )
    p = DearVideoProcessor.from_model_config(config)
    assert p.modalities == ["rgb", "flow"] and p.model_input_names == ["pixel_values", "flow_pixel_values"]
    assert (p.num_frames, p.crop_size, p.train_size) == (8, {"height": 64, "width": 64}, {"height": 73, "width": 91})
    assert p.flip_label_pairs == [[0, 1]]
    p.save_pretrained(tmp_path)
    assert json.loads((tmp_path / "preprocessor_config.json").read_text())["modalities"] == ["rgb", "flow"]
    assert DearVideoProcessor.from_pretrained(tmp_path).modalities == ["rgb", "flow"]
    # a processor saved before modalities were stated takes RGB and depth, as then
    saved = json.loads((tmp_path / "preprocessor_config.json").read_text())
    del saved["modalities"]
    (tmp_path / "preprocessor_config.json").write_text(json.dumps(saved))
    assert DearVideoProcessor.from_pretrained(tmp_path).modalities == ["rgb", "depth"]
    assert DearVideoProcessor(modalities=["depth"]).modalities == ["rgb", "depth"]  # `videos` is always RGB

    with pytest.raises(TypeError, match=r"got flwo= but takes the videos of its modalities \['rgb', 'flow'\]"):
        p(clip["frames"], flwo=clip["frames"])
    with pytest.raises(TypeError, match=r"got depth= .*from_model_config"):
        p(clip["frames"], depth=clip["depth"])
    with pytest.raises(VideoDecodingError, match="flow has 19 frames but the RGB video has 20"):
        p(clip["frames"], flow=clip["frames"][:19])
    with pytest.raises(VideoDecodingError, match=r"expected \(T, H, W, 3\) or \(T, H, W, 1\) uint8 flow frames"):
        p(clip["frames"], flow=clip["frames"][..., :2])
    with pytest.raises(ValueError, match="got 1 videos but 2 flow inputs"):
        p(clip["frames"], flow=[clip["frames"], clip["frames"]])
    for modalities, message in (
        (["rgb", "optical-flow"], "identifiers"),
        (["rgb", "flow", "flow"], "twice"),
        (["rgb", "labels"], "shadow"),
    ):
        with pytest.raises(ValueError, match=message):
            DearVideoProcessor(modalities=modalities)
