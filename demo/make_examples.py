#!/usr/bin/env python
# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Write the demo's example clips: a few clips of the built-in synthetic data, each with its depth video.

    python demo/make_examples.py            # writes demo/examples/*.webm and *_depth.mp4 (about 70 kB in all)

"Moving something towards the camera" and "... away from the camera" share a seed, so their RGB videos are
byte-identical and only their depth differs (see modeling_dear/data/synthetic/): on the page, an RGB-only
model must give them the same answer, DEAR need not.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from modeling_dear.data.synthetic import DEFAULT_FPS, encode_rgb, render_clip
from modeling_dear.video_io import encode_depth_video

# (class, seed): seeds outside the synthetic dataset's own seed sequences, so these clips are not training clips
EXAMPLE_CLIPS = (
    ("Moving something towards the camera", 7),
    ("Moving something away from the camera", 7),
    ("Putting something behind something", 3),
    ("Pushing something from left to right", 5),
)


def slug(name: str) -> str:
    return name.lower().replace(" ", "_")


def write_examples(folder: Path) -> list[tuple[Path, Path]]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, seed in EXAMPLE_CLIPS:
        clip = render_clip(name, np.random.SeedSequence([seed]))
        video, depth = folder / f"{slug(name)}.webm", folder / f"{slug(name)}_depth.mp4"
        video.write_bytes(encode_rgb(clip.frames, DEFAULT_FPS))
        depth.write_bytes(encode_depth_video(clip.depth, DEFAULT_FPS))
        written.append((video, depth))
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", default=str(Path(__file__).resolve().parent / "examples"))
    args = parser.parse_args()
    for video, depth in write_examples(Path(args.output)):
        print(f"wrote {video} ({video.stat().st_size} B) and {depth} ({depth.stat().st_size} B)")


if __name__ == "__main__":
    main()
