# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Clip transforms: one draw per clip, depth follows RGB geometry only, left/right label swapping."""

import numpy as np
import pytest
from matplotlib import colormaps

from modeling_dear.data.schema import ssv2_label_names
from modeling_dear.video_transforms import (
    CLIP_MEAN,
    CLIP_STD,
    GEOMETRIC_OPS,
    RANDAUGMENT_OPS,
    AugmentOp,
    TrainAugmentation,
    apply_randaugment,
    build_flip_label_map,
    colormap_depth,
    eval_views,
    flip_label_pairs,
    normalize_clip,
    random_resized_crop_box,
    resize_clip,
    sample_randaugment,
    three_crop_boxes,
)


def test_flip_label_map_on_ssv2():
    names = ssv2_label_names()
    flip = build_flip_label_map(names)
    assert flip == {86: 87, 87: 86, 93: 94, 94: 93, 166: 167, 167: 166}
    assert flip_label_pairs(flip) == [[86, 87], [93, 94], [166, 167]]
    # "upright" and "pulling it right out" contain "right" but have no mirrored class
    assert 119 not in flip and 50 not in flip
    assert build_flip_label_map(dict(enumerate(names))) == flip


def test_flip_label_map_general():
    names = {0: "Turn Left", 1: "turn right", 2: "LEFT hand up", 3: "RIGHT hand up", 4: "upright", 5: "alright"}
    assert build_flip_label_map(names) == {0: 1, 1: 0, 2: 3, 3: 2}


def grey_clip_and_depth(make_frames, t=4, h=60, w=90):
    depth = make_frames(t, h, w)[..., 0].copy()
    return np.repeat(depth[..., None], 3, axis=-1), depth


@pytest.mark.parametrize("seed", range(6))
def test_depth_gets_the_same_resize_crop_and_flip(make_frames, seed):
    # RGB frames that are the depth map in every channel must come out equal to the depth output
    rgb, depth = grey_clip_and_depth(make_frames)
    augment = TrainAugmentation(randaugment_num_ops=0)
    out_rgb, out_depth, flipped = augment(rgb, depth, rng=seed)
    assert out_rgb.shape == (4, 224, 224, 3) and out_depth.shape == (4, 224, 224)
    np.testing.assert_array_equal(out_rgb[..., 0], out_depth)
    # the same draw without the flip is the mirror image exactly when a flip happened
    unflipped_rgb, _, _ = TrainAugmentation(randaugment_num_ops=0, flip_prob=0.0)(rgb, depth, rng=seed)
    assert flipped == (not np.array_equal(out_rgb, unflipped_rgb))
    if flipped:
        np.testing.assert_array_equal(out_rgb, unflipped_rgb[:, :, ::-1])


def test_flip_happens_about_half_the_time(make_frames):
    rgb, depth = grey_clip_and_depth(make_frames, t=1, h=40, w=50)
    augment = TrainAugmentation(randaugment_num_ops=0, resize=(40, 50), crop_size=(32, 32))
    flips = [augment(rgb, depth, rng=seed)[2] for seed in range(200)]
    assert 70 < sum(flips) < 130


@pytest.mark.parametrize("name", GEOMETRIC_OPS)
def test_geometric_randaugment_ops_move_depth_like_rgb(make_frames, name):
    rgb, depth = grey_clip_and_depth(make_frames)
    op = AugmentOp(name, {"Rotate": -21.0, "ShearX": 0.21, "ShearY": -0.21}.get(name, 0.3))
    moved_rgb, moved_depth = apply_randaugment(rgb, [op]), apply_randaugment(depth, [op])
    # compare where no fill colour reaches (the fills differ on purpose: grey for RGB, far for depth)
    inside = apply_randaugment(np.full_like(depth, 255), [op]) == 255
    assert inside.mean() > 0.3
    np.testing.assert_array_equal(moved_rgb[..., 0][inside], moved_depth[inside])
    assert not np.array_equal(moved_depth, depth)


def test_photometric_ops_leave_depth_alone(make_frames):
    rgb, depth = grey_clip_and_depth(make_frames)
    photometric = [
        AugmentOp(n, v) for n, v in [("Invert", None), ("Solarize", 77.0), ("Contrast", 1.6), ("Posterize", 2.0)]
    ]
    assert apply_randaugment(depth, photometric) is depth
    assert not np.array_equal(apply_randaugment(rgb, photometric), rgb)


def test_randaugment_is_the_same_on_every_frame(make_frames):
    frame = make_frames(1, 50, 60)[0]
    clip = np.stack([frame] * 5)
    for seed in range(20):
        ops = sample_randaugment(np.random.default_rng(seed), num_ops=4, magnitude=7)
        out = apply_randaugment(clip, ops)
        assert all(np.array_equal(out[0], out[i]) for i in range(1, 5))
    names = {op.name for seed in range(200) for op in sample_randaugment(np.random.default_rng(seed))}
    assert names == set(RANDAUGMENT_OPS)  # all 15 ops reachable


def test_randaugment_draw():
    counts = [len(sample_randaugment(np.random.default_rng(s), num_ops=4, prob=0.5)) for s in range(400)]
    assert 1.7 < np.mean(counts) < 2.3  # each of the 4 ops applied with probability 1/2
    rotations = [
        op.value
        for s in range(400)
        for op in sample_randaugment(np.random.default_rng(s), magnitude_std=0)
        if op.name == "Rotate"
    ]
    assert set(np.round(np.abs(rotations), 6)) == {21.0}  # magnitude 7 of 10 → 21° of the 30° maximum, either sense


def test_inception_crop_box_bounds():
    rng = np.random.default_rng(0)
    for _ in range(500):
        top, left, h, w = random_resized_crop_box(256, 320, rng=rng)
        assert 0 <= top and top + h <= 256 and 0 <= left and left + w <= 320
        assert 0.08 * 0.9 <= h * w / (256 * 320) <= 1.0
        assert 3 / 4 * 0.9 <= w / h <= 4 / 3 * 1.1


def test_train_resize_is_exact():
    clip = np.zeros((2, 240, 427, 3), np.uint8)
    assert resize_clip(clip, (256, 320)).shape == (2, 256, 320, 3)
    assert resize_clip(clip[..., 0], (256, 320)).shape == (2, 256, 320)


def test_eval_views_three_crops(make_frames):
    assert three_crop_boxes(224, 398, 224, 224) == [(0, 0, 224, 224), (0, 87, 224, 224), (0, 174, 224, 224)]
    assert three_crop_boxes(398, 224, 224, 224) == [(0, 0, 224, 224), (87, 0, 224, 224), (174, 0, 224, 224)]
    rgb, depth = grey_clip_and_depth(make_frames, t=2, h=120, w=213)
    views = eval_views(rgb, depth, short_side=224, crop_size=(224, 224), num_crops=3)
    assert len(views) == 3
    for view_rgb, view_depth in views:
        assert view_rgb.shape == (2, 224, 224, 3) and view_depth.shape == (2, 224, 224)
        np.testing.assert_array_equal(view_rgb[..., 0], view_depth)
    full = resize_clip(rgb, (224, 398))
    np.testing.assert_array_equal(views[0][0], full[:, :, :224])
    np.testing.assert_array_equal(views[2][0], full[:, :, -224:])
    ((center, _),) = eval_views(rgb, None, num_crops=1)
    np.testing.assert_array_equal(center, views[1][0])


def test_colormap_depth():
    depth = np.arange(256, dtype=np.uint8).reshape(1, 16, 16)
    inferno = colormap_depth(depth, "inferno")
    assert inferno.shape == (1, 16, 16, 3) and inferno.dtype == np.uint8
    expected = np.round(colormaps["inferno"](np.arange(256))[:, :3] * 255).astype(np.uint8)
    np.testing.assert_array_equal(inferno.reshape(256, 3), expected)
    assert inferno[0, -1, -1].sum() > inferno[0, 0, 0].sum()  # near (255) is bright, far (0) dark
    gray = colormap_depth(depth, "gray")
    assert (gray == depth[..., None]).all()
    assert colormap_depth(np.zeros((3, 2, 5, 7), np.uint8)).shape == (3, 2, 5, 7, 3)
    with pytest.raises(ValueError, match="uint8"):
        colormap_depth(depth.astype(np.float32))
    with pytest.raises(ValueError, match="colour map"):
        colormap_depth(depth, "jet")


def test_normalize_clip():
    clip = np.random.default_rng(0).integers(0, 256, size=(3, 5, 6, 3), dtype=np.uint8)
    out = normalize_clip(clip)
    assert out.shape == (3, 3, 5, 6) and out.dtype == np.float32
    expected = (clip.transpose(0, 3, 1, 2) / 255.0 - np.array(CLIP_MEAN)[:, None, None]) / np.array(CLIP_STD)[
        :, None, None
    ]
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_numpy_bilinear_resize_gives_pils_bytes():
    # Inference runs without PIL through the numpy port; it must give exactly what PIL gives (training used PIL).
    import PIL
    from PIL import Image

    from modeling_dear.video_transforms import _resample_bilinear_numpy

    rng = np.random.default_rng(0)
    new_pil = int(PIL.__version__.split(".")[0]) >= 13  # Pillow 13 picks the pass order by shape; older: rows first
    cases = [((240, 427), (224, 398), None), ((48, 80), (64, 107), None), ((90, 60), (20, 50), None)]
    for _ in range(60):
        height, width = rng.integers(1, 70, size=2)
        box = None
        if rng.random() < 0.5:
            left, top = rng.integers(0, width), rng.integers(0, height)
            box = (int(left), int(top), int(rng.integers(left + 1, width + 1)), int(rng.integers(top + 1, height + 1)))
        cases.append(((int(height), int(width)), tuple(int(v) for v in rng.integers(1, 90, size=2)), box))
    for index, (source, size, box) in enumerate(cases):
        if not new_pil and source[0] - size[0] > 2 * max(source[1] - size[1], 0):
            continue
        channels = () if index % 3 == 0 else (3,)  # depth (T, H, W) and RGB (T, H, W, 3)
        clip = rng.integers(0, 256, size=(2, *source, *channels), dtype=np.uint8)
        expected = np.stack(
            [np.asarray(Image.fromarray(f).resize(size[::-1], Image.Resampling.BILINEAR, box=box)) for f in clip]
        )
        np.testing.assert_array_equal(
            _resample_bilinear_numpy(clip, size, box), expected, err_msg=f"{source}->{size} {box}"
        )
