# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""The command line: `python -m modeling_dear.data.synthetic --output DIR [...]` renders a dataset and saves it
with datasets' `save_to_disk`, with its card."""

from __future__ import annotations

import argparse
import shutil
import time
from collections.abc import Sequence
from pathlib import Path

from .card import write_card
from .classes import SYNTHETIC_CLASSES
from .generate import generate_synthetic_dataset
from .spec import DEFAULT_FPS, DEFAULT_HEIGHT, DEFAULT_MAX_FRAMES, DEFAULT_MIN_FRAMES, DEFAULT_WIDTH, SyntheticSpec


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m modeling_dear.data.synthetic",
        description="Render the synthetic RGB-D action dataset and save it with datasets' save_to_disk, "
        "with a dataset card (README.md).",
    )
    parser.add_argument("--output", required=True, help="folder to write (must not exist unless --overwrite)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train-per-class", type=int, default=24)
    parser.add_argument("--validation-per-class", type=int, default=8)
    parser.add_argument("--test-per-class", type=int, default=4)
    parser.add_argument("--height", type=int, default=DEFAULT_HEIGHT)
    parser.add_argument("--width", type=int, default=DEFAULT_WIDTH)
    parser.add_argument("--fps", type=float, default=DEFAULT_FPS)
    parser.add_argument("--min-frames", type=int, default=DEFAULT_MIN_FRAMES)
    parser.add_argument("--max-frames", type=int, default=DEFAULT_MAX_FRAMES)
    parser.add_argument("--label-test-split", action="store_true", help="keep labels on the test split")
    parser.add_argument(
        "--scenes",
        choices=("identical", "estimable"),
        default="identical",
        help="identical: the depth pairs share their RGB (sensor-depth upper bound); estimable: depth readable from RGB",
    )
    parser.add_argument("--num-proc", type=int, default=1, help="rendering processes")
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args(argv)

    output = Path(args.output)
    if output.exists() and any(output.iterdir()):
        if not args.overwrite:
            parser.error(f"{output} exists and is not empty (pass --overwrite)")
        shutil.rmtree(output)
    spec = SyntheticSpec(
        num_train_per_class=args.train_per_class,
        num_validation_per_class=args.validation_per_class,
        num_test_per_class=args.test_per_class,
        seed=args.seed,
        height=args.height,
        width=args.width,
        fps=args.fps,
        min_frames=args.min_frames,
        max_frames=args.max_frames,
        label_test_split=args.label_test_split,
        scenes=args.scenes,
    )
    start = time.perf_counter()
    dataset = generate_synthetic_dataset(spec, num_proc=args.num_proc, progress=True)
    dataset.save_to_disk(str(output))
    sizes = {s: len(d) for s, d in dataset.items()}
    write_card(output, spec, sizes)
    seconds = time.perf_counter() - start
    video_bytes = sum(len(v["bytes"]) for d in dataset.values() for v in d["video"])
    depth_bytes = sum(len(v["bytes"]) for d in dataset.values() for v in d["depth"])
    frames = sum(sum(d["num_frames"]) for d in dataset.values())
    print(
        f"{sum(sizes.values())} clips ({', '.join(f'{s} {n}' for s, n in sizes.items())}), {frames} frames, "
        f"{len(SYNTHETIC_CLASSES)} classes; RGB {video_bytes / 1e6:.2f} MB, depth {depth_bytes / 1e6:.2f} MB; "
        f"{seconds:.1f} s; written to {output}"
    )
    return 0
