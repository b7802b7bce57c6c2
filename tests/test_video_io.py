# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Decoding sampled frames: decord and PyAV against PyAV's own full decode, and bad input."""

import importlib.util
import io
import re

import av
import numpy as np
import pytest

from modeling_dear.testing_utils import smooth_moving_frames
from modeling_dear.video_io import (
    VideoDecodingError,
    VideoInfo,
    check_aligned,
    encode_depth_video,
    encode_video,
    open_video,
    probe_video,
    read_depth_frames,
    read_video_frames,
)

HAVE_DECORD = importlib.util.find_spec("decord") is not None
BACKENDS = ["pyav"] + (["decord"] if HAVE_DECORD else [])
FORMATS = {"webm": "libvpx-vp9", "mp4": "libx264"}


def full_decode(data: bytes) -> np.ndarray:
    """Every frame, in order, as PyAV converts it: the reference the readers must reproduce."""
    with av.open(io.BytesIO(data)) as container:
        return np.stack([frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)])


@pytest.fixture(scope="module")
def clips(make_frames):
    frames = make_frames(45, 64, 80)
    encoded = {name: encode_video(frames, fps=12, codec=codec) for name, codec in FORMATS.items()}
    # short keyframe interval (and B-frames for H.264): the PyAV reader must seek and still land exactly
    encoded["webm-gop8"] = encode_video(frames, codec="libvpx-vp9", options={"g": "8"})
    encoded["mp4-gop8"] = encode_video(frames, codec="libx264", options={"g": "8", "bf": "2"})
    return encoded


@pytest.mark.parametrize("fmt", ["webm", "mp4"])
def test_probe(clips, fmt):
    info = probe_video(clips[fmt])
    assert info == VideoInfo(45, 12.0, 64, 80, codec={"webm": "vp9", "mp4": "h264"}[fmt], pix_fmt="yuv420p")


# Even-sized 4:2:0 frames decode bit-identically: both readers convert the same decoded planes with
# FFmpeg's unscaled YUV→RGB path, so exact equality is required here.
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fmt", ["webm", "mp4", "webm-gop8", "mp4-gop8"])
def test_sampled_frames_equal_full_decode(clips, fmt, backend):
    reference = full_decode(clips[fmt])
    assert len(reference) == 45
    for indices in ([0, 1, 2], [44], [3, 17, 30, 31, 44], [40, 3, 17, 17, 0], list(range(45))):
        frames = read_video_frames(clips[fmt], indices, backend=backend)
        assert frames.dtype == np.uint8 and frames.shape == (len(indices), 64, 80, 3)
        np.testing.assert_array_equal(frames, reference[indices])


@pytest.mark.parametrize("backend", BACKENDS)
def test_odd_sized_frames(make_frames, backend):
    frames = make_frames(12, 33, 47)
    data = encode_video(frames, codec="libvpx-vp9")
    reference = full_decode(data)
    decoded = read_video_frames(data, [0, 5, 11], backend=backend)
    assert decoded.shape == (3, 33, 47, 3)
    if backend == "pyav":
        np.testing.assert_array_equal(decoded, reference[[0, 5, 11]])
    else:
        # Odd sides leave a half chroma sample at the edge, so FFmpeg's exact unscaled YUV→RGB path is not
        # taken, and decord bundles an older FFmpeg whose chroma upsampling differs from PyAV's. Luma (the
        # decoded Y plane) is the same up to RGB rounding; colours differ by about 2 levels on average.
        decoded, expected = decoded.astype(float), reference[[0, 5, 11]].astype(float)
        luma = np.array([0.299, 0.587, 0.114])
        assert np.abs(decoded @ luma - expected @ luma).max() < 1.5
        assert np.abs(decoded - expected).mean() < 3


def _gray_h264(frames: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as output:
        stream = output.add_stream("libx264", rate=12)
        stream.height, stream.width = frames.shape[1:]
        stream.pix_fmt = "gray"
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="gray")):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    return buffer.getvalue()


@pytest.mark.parametrize("backend", BACKENDS)
def test_grayscale_video(make_frames, backend):
    data = _gray_h264(make_frames(10, 48, 64)[..., 1].copy())
    frames = read_video_frames(data, [1, 8], backend=backend)
    np.testing.assert_array_equal(frames, full_decode(data)[[1, 8]])
    assert (frames[..., 0] == frames[..., 1]).all() and (frames[..., 1] == frames[..., 2]).all()


def test_auto_falls_back_to_pyav_where_decord_fails(make_frames):
    # decord 0.6 cannot convert frames 16, 24, 48 or 72 pixels wide; "auto" must still deliver them
    data = encode_video(make_frames(6, 32, 48), codec="libx264")
    np.testing.assert_array_equal(read_video_frames(data, [0, 5], backend="auto"), full_decode(data)[[0, 5]])


def test_sources_path_bytes_file(clips, tmp_path):
    path = tmp_path / "clip.webm"
    path.write_bytes(clips["webm"])
    expected = read_video_frames(clips["webm"], [2, 9])
    np.testing.assert_array_equal(read_video_frames(str(path), [2, 9]), expected)
    np.testing.assert_array_equal(read_video_frames(path, [2, 9]), expected)
    with open(path, "rb") as handle:
        np.testing.assert_array_equal(read_video_frames(handle, [2, 9]), expected)
    np.testing.assert_array_equal(read_video_frames(io.BytesIO(clips["webm"]), [2, 9]), expected)


@pytest.mark.parametrize("backend", BACKENDS)
def test_depth_video_round_trip(backend):
    rng = np.random.default_rng(0)
    for height, width in ((30, 40), (33, 45)):  # odd sides are padded by the encoder, cropped by the reader
        depth = rng.integers(0, 256, size=(12, height, width), dtype=np.uint8)
        data = encode_depth_video(depth)
        out = read_depth_frames(data, [0, 4, 11, 4], backend=backend, size=(height, width))
        np.testing.assert_array_equal(out, depth[[0, 4, 11, 4]])


def test_check_aligned():
    rgb = VideoInfo(45, 12.0, 33, 45)
    check_aligned(rgb, VideoInfo(45, 12.0, 34, 46), "v1")  # the depth encoder's padding is fine
    with pytest.raises(VideoDecodingError, match=r"^v1: depth has 44 frames but the RGB video has 45"):
        check_aligned(rgb, VideoInfo(44, 12.0, 33, 45), "v1")
    with pytest.raises(VideoDecodingError, match="v1: depth frames are 64x80"):
        check_aligned(rgb, VideoInfo(45, 12.0, 64, 80), "v1")


# ------------------------------------------------------------------------------------------------ bad input


def _headers_only_webm(data: bytes) -> bytes:
    cluster = data.find(b"\x1f\x43\xb6\x75")  # the first Matroska Cluster: everything before is headers
    assert cluster > 0
    return data[:cluster]


def _zero_frame_mp4() -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as output:
        stream = output.add_stream("libx264", rate=12)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        output.start_encoding()
    return buffer.getvalue()


@pytest.mark.parametrize(
    "make_bad, reason",
    [
        (lambda clips: b"", "empty input"),
        (lambda clips: b"not a video at all" * 20, "not a readable video container"),
        (
            lambda clips: clips["webm"][: len(clips["webm"]) // 2],
            "truncated or damaged: the container declares 45 frames",
        ),
        # cut inside the trailing moov atom: the stream is declared but its codec parameters are gone
        (lambda clips: clips["mp4"][: len(clips["mp4"]) * 9 // 10], "a truncated/damaged file"),
        (lambda clips: _headers_only_webm(clips["webm"]), "not a readable video container"),
        (lambda clips: _zero_frame_mp4(), "no video stream"),
        (lambda clips: clips["webm"].replace(b"V_VP9", b"V_ZZZ"), "unsupported codec"),
    ],
    ids=["empty", "garbage", "truncated-webm", "truncated-mp4", "headers-only", "zero-frames", "unknown-codec"],
)
def test_bad_bytes_raise_named_error(clips, make_bad, reason):
    data = make_bad(clips)
    with pytest.raises(VideoDecodingError) as caught:
        read_video_frames(data, [0], name="ssv2/1234")
    assert str(caught.value).startswith("ssv2/1234: ") and reason in str(caught.value)
    assert caught.value.source_name == "ssv2/1234"
    with pytest.raises(VideoDecodingError, match=r"^<bytes>: "):
        probe_video(data)


def test_bad_paths_raise_named_error(tmp_path):
    missing = tmp_path / "missing.webm"
    with pytest.raises(VideoDecodingError, match=f"^{re.escape(str(missing))}: no such file"):
        probe_video(missing)
    with pytest.raises(VideoDecodingError, match=f"^{re.escape(str(tmp_path))}: is a directory"):
        read_video_frames(tmp_path, [0])
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(VideoDecodingError, match=f"^{re.escape(str(empty))}: empty file"):
        read_depth_frames(empty, [0])


def test_out_of_range_and_not_depth(clips):
    with pytest.raises(VideoDecodingError, match="frame index out of range: asked for 0..45, the video has 45"):
        read_video_frames(clips["mp4"], [0, 45])
    with pytest.raises(VideoDecodingError, match="not a grey depth video"):
        read_depth_frames(clips["mp4"], [0])


def test_batch_job_catches_per_video(clips, tmp_path):
    inputs = {"good": clips["webm"], "cut": clips["webm"][:600], "dir": tmp_path, "good2": clips["mp4"]}
    decoded, failed = {}, {}
    for name, source in inputs.items():
        try:
            video = open_video(source, name=name)
            decoded[name] = video.read([0, video.info.num_frames - 1])
        except ValueError as error:  # VideoDecodingError is a ValueError
            failed[name] = str(error)
    assert sorted(decoded) == ["good", "good2"]
    assert sorted(failed) == ["cut", "dir"] and all(msg.startswith(f"{n}: ") for n, msg in failed.items())


def _image_bytes(image_format: str) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(smooth_moving_frames(1, 40, 64)[0]).save(buffer, format=image_format)
    return buffer.getvalue()


@pytest.mark.parametrize("image_format,kind", [("PNG", "PNG"), ("JPEG", "JPEG"), ("WEBP", "WebP"), ("BMP", "BMP")])
@pytest.mark.parametrize("file_name", ["still.png", "still.webm"])
def test_still_images_are_refused_as_images(tmp_path, image_format, kind, file_name):
    # FFmpeg reads an image as a 1-frame video stream, whatever the file is called
    path = tmp_path / file_name
    path.write_bytes(_image_bytes(image_format))
    for source in (path, path.read_bytes()):
        with pytest.raises(VideoDecodingError, match=rf": is an image \({kind}\), not a video; give a video file"):
            probe_video(source)
    with pytest.raises(VideoDecodingError, match=rf"^{re.escape(str(path))}: is an image"):
        read_video_frames(path, [0])


@pytest.mark.parametrize("codec", ["libvpx-vp9", "libx264"])
@pytest.mark.parametrize("num_frames", [1, 2])
def test_one_and_two_frame_videos_still_read(codec, num_frames):
    frames = smooth_moving_frames(num_frames, 40, 64)
    data = encode_video(frames, codec=codec)
    assert probe_video(data).num_frames == num_frames
    assert read_video_frames(data, list(range(num_frames)), backend="pyav").shape == (num_frames, 40, 64, 3)


def _variable_frame_rate_webm(num_frames: int = 24) -> bytes:
    """A VP9 WebM whose frames are 33 ms apart in bursts, 100 ms apart between them (as phones and screen recorders
    write): its duration x nominal rate (30 fps) is 40 frames, though 24 are present. Frame i is grey level 10·i."""
    from fractions import Fraction

    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="webm") as output:
        stream = output.add_stream("libvpx-vp9", rate=30)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        pts = 0
        for i in range(num_frames):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 10 * i, np.uint8), format="rgb24")
            frame.pts, frame.time_base = pts, Fraction(1, 1000)
            pts += 33 if i % 3 else 100
            output.mux(stream.encode(frame))
        output.mux(stream.encode())
    return buffer.getvalue()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_variable_frame_rate_webm_is_read_whole_and_a_cut_one_is_still_refused(backend):
    from modeling_dear import DearVideoProcessor

    data = _variable_frame_rate_webm()
    assert probe_video(data).num_frames == 24
    frames = read_video_frames(data, list(range(24)), backend=backend)
    assert np.abs(frames.mean(axis=(1, 2, 3)) - 10 * np.arange(24)).max() < 3
    processor = DearVideoProcessor(num_frames=8, size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    processor.decode_backend = backend
    assert processor(videos=[data], return_tensors="pt")["pixel_values"].shape == (1, 8, 3, 32, 32)
    with pytest.raises(VideoDecodingError, match=r"truncated or damaged: the container declares 40 frames \(1.33 s\)"):
        read_video_frames(data[: len(data) // 2], [0], backend=backend)
