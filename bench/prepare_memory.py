# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Peak memory of the SSv2 preparation (`modeling_dear.data.ssv2`) against the length of a video.

Each run prepares a one-video download (a 320×240 clip of 45 or 2,500 frames, H.264 MP4) with a tiny random
DPT in a fresh process and prints that process's peak RSS (`ru_maxrss`, decode included: `--num_workers 0`
decodes in the process itself, the worst case). Videos over `STREAM_ABOVE_FRAMES` frames stream through
decode → depth → encode in chunks, so the 2,500-frame clip should cost about what the 45-frame one does;
`--also_unstreamed` adds a run of the 2,500-frame clip with streaming switched off (the behaviour before),
which takes about 4 GB.

    python bench/prepare_memory.py [--lengths 45 2500] [--also_unstreamed]

The depth model is tiny, so the numbers are the pipeline's own memory (frames, float depth, encoders,
Parquet); a real model adds its weights and one batch of activations to every run alike.

Measured with it (README, Performance): peak RSS 576-579 MB for 45 frames, 783-819 MB for 2,500 frames; 4.0 GB
for 2,500 frames unstreamed. Before `data.prepare.shards` (then `data.ssv2.shards`) switched Parquet column statistics off, the writer alone
took 5-6× a row group's bytes (250 MB for the 2,500-frame clip); without them, 1×.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

HEIGHT, WIDTH = 240, 320


def write_clip(path: Path, num_frames: int) -> None:
    """A moving gradient, encoded frame by frame (the generator itself never holds the clip)."""
    import av
    import numpy as np

    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    with av.open(str(path), mode="w") as output:
        stream = output.add_stream("libx264", rate=Fraction(12))
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"preset": "ultrafast"}
        for t in range(num_frames):
            frame = np.empty((HEIGHT, WIDTH, 3), np.uint8)
            for c in range(3):
                frame[..., c] = np.round(127.5 + 110 * np.sin(xx / (9.0 + 4 * c) + yy / 13.0 + 0.2 * t + c))
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)


def write_labels(folder: Path, video_id: str) -> None:
    from modeling_dear.data.schema import ssv2_label_names

    names = ssv2_label_names()
    folder.mkdir(parents=True)
    (folder / "labels.json").write_text(json.dumps({n: str(i) for i, n in enumerate(names)}))
    template = names[0].replace("something", "[something]")
    (folder / "validation.json").write_text(json.dumps([{"id": video_id, "template": template, "placeholders": []}]))


def child(args) -> None:
    """One preparation in this (fresh) process; prints a JSON line with its peak RSS."""
    import torch

    import modeling_dear.data.prepare.shards as shards
    from modeling_dear.data.ssv2 import prepare_ssv2

    torch.set_num_threads(1)
    if args.unstreamed:
        shards.STREAM_ABOVE_FRAMES = 10**9
    start = time.perf_counter()
    summary = prepare_ssv2(
        args.videos,
        args.labels,
        args.output,
        args.model,
        splits=("validation",),
        batch_size=16,
        num_workers=args.num_workers,
        encode_threads=1,
        progress=False,
    )
    assert summary.complete and summary.totals["rows"] == {"validation": 1}, summary
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    workers_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "peak_mb": peak_mb,
                "workers_peak_mb": workers_mb,
                "frames": summary.frames,
                "seconds": time.perf_counter() - start,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lengths", type=int, nargs="+", default=[45, 2500])
    parser.add_argument("--num_workers", type=int, default=0)
    parser.add_argument("--also_unstreamed", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--unstreamed", action="store_true", help=argparse.SUPPRESS)
    for name in ("videos", "labels", "output", "model"):
        parser.add_argument(f"--{name}", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)

    from modeling_dear.testing_utils import save_tiny_dpt

    runs = [(n, False) for n in args.lengths]
    if args.also_unstreamed:
        runs.append((max(args.lengths), True))
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        model = save_tiny_dpt(root / "tiny-dpt")
        for length, unstreamed in runs:
            case = root / f"{length}{'-unstreamed' if unstreamed else ''}"
            (case / "videos").mkdir(parents=True)
            write_clip(case / "videos" / "1.mp4", length)
            write_labels(case / "labels", "1")
            command = [
                sys.executable,
                __file__,
                "--child",
                "--videos",
                str(case / "videos"),
                "--labels",
                str(case / "labels"),
                "--output",
                str(case / "out"),
                "--model",
                str(model),
                "--num_workers",
                str(args.num_workers),
            ] + (["--unstreamed"] if unstreamed else [])
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode:
                sys.exit(f"run of {length} frames failed:\n{done.stderr[-3000:]}")
            results[(length, unstreamed)] = json.loads(done.stdout.strip().splitlines()[-1])

    print(
        f"peak RSS of one preparation process, one {WIDTH}x{HEIGHT} clip, tiny random DPT, "
        f"num_workers={args.num_workers}"
    )
    print(f"{'frames':>8} {'mode':>11} {'peak RSS MB':>12} {'workers MB':>11} {'seconds':>8}")
    for (length, unstreamed), r in results.items():
        mode = "unstreamed" if unstreamed else "as shipped"
        print(f"{length:>8} {mode:>11} {r['peak_mb']:>12.0f} {r['workers_peak_mb']:>11.0f} {r['seconds']:>8.1f}")
    shipped = [r for (n, u), r in results.items() if not u]
    if len(shipped) >= 2:
        low, high = shipped[0], shipped[-1]
        print(
            f"difference {args.lengths[-1]} - {args.lengths[0]} frames: {high['peak_mb'] - low['peak_mb']:+.0f} MB "
            f"(required: under 300 MB)"
        )


if __name__ == "__main__":
    main()
