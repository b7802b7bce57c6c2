# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""`dear-prepare-ssv2`: build the Something-Something V2 RGB-D dataset (videos + per-frame estimated depth) from
your own download.

One GPU:

    dear-prepare-ssv2 --videos /data/ssv2/20bn-something-something-v2 \\
        --labels /data/ssv2/labels --output_dir /data/ssv2_depth

Eight GPUs (each process takes every 8th shard), straight from the 20 archive parts:

    accelerate launch --num_processes 8 -m modeling_dear.cli.prepare_ssv2 --videos /data/ssv2/downloads \\
        --labels /data/ssv2/labels --output_dir /data/ssv2_depth

(`python -m modeling_dear.cli.prepare_ssv2` and `examples/prepare_ssv2.py` take the same arguments.) Run the same
command again to resume after a crash or Ctrl-C: finished shards are kept. The result loads offline with
`datasets.load_dataset("/data/ssv2_depth")` and trains with `dear-train --dataset /data/ssv2_depth`. The logic
lives in `modeling_dear.data.ssv2`. Exit status 2 (and one line on stderr) when the inputs are unusable.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field

from transformers import HfArgumentParser

from ..data.ssv2 import DEFAULT_SHARD_SIZE, SPLITS, SSv2InputError, partial_state, prepare_ssv2
from ..depth_estimation import DEFAULT_DEPTH_MODEL, DEFAULT_NORMALIZATION


@dataclass
class PrepareArguments:
    videos: str = field(
        metadata={
            "help": "folder of <id>.webm videos, or the archive parts 20bn-something-something-v2-00..19 "
            "(their folder or any one part), or one whole .tar.gz"
        }
    )
    labels: str = field(
        metadata={
            "help": "folder (or the labels zip) with labels.json, train.json, validation.json, "
            "test.json (or something-something-v2-*.json)"
        }
    )
    output_dir: str = field(metadata={"help": "dataset folder to write (Parquet shards + dataset card)"})
    depth_model: str = field(default=DEFAULT_DEPTH_MODEL, metadata={"help": "transformers depth checkpoint or path"})
    splits: list[str] = field(default_factory=lambda: list(SPLITS), metadata={"help": "splits to build"})
    shard_size: int = field(
        default=DEFAULT_SHARD_SIZE, metadata={"help": "videos per Parquet shard (unit of resumption)"}
    )
    batch_size: int = field(default=32, metadata={"help": "frames per depth-model forward pass"})
    num_workers: int = field(default=4, metadata={"help": "video decoding processes per GPU (0: none)"})
    encode_threads: int = field(default=2, metadata={"help": "threads encoding depth videos"})
    normalize: str = field(
        default=DEFAULT_NORMALIZATION, metadata={"help": "depth min-max over the 'clip' or each 'frame'"}
    )
    depth_crf: int | None = field(
        default=None,
        metadata={
            "help": "store depth lossy with this H.264 crf (e.g. 10: ~4x smaller, mean error ~0.15 level) "
            "instead of losslessly; see bench/depth_storage.py"
        },
    )
    extract_dir: str | None = field(
        default=None,
        metadata={"help": "where archive parts are extracted (default: inside output_dir, deleted at the end)"},
    )
    keep_extracted: bool = field(default=False, metadata={"help": "keep the extracted videos"})
    retry_failed: bool = field(default=False, metadata={"help": "redo finished shards that recorded failed videos"})
    decode_backend: str = field(default="auto", metadata={"help": "auto, decord or pyav"})
    local_files_only: bool = field(default=False, metadata={"help": "never contact the Hub for the depth model"})
    # The fast path is the default for new datasets (README, Performance, "Depth extraction": ≥ 3× the per-frame
    # pipeline on a 2-core AVX512-BF16 CPU; bf16 moves the stored uint8 depth by 1.1-1.5 grey levels on average,
    # max 22-25, against fp32 at the same input size).
    depth_precision: str = field(
        default="auto",
        metadata={
            "help": "depth model precision: 'auto' (default: bf16 autocast on CUDA and on CPUs with AVX512-BF16/AMX, "
            "fp32 on other CPUs), 'default' (bf16 autocast on CUDA, fp32 on every CPU), 'bf16', 'fp16' or 'fp32'; "
            "see bench/depth_extraction.py"
        },
    )
    keep_aspect_ratio: bool = field(
        default=True,
        metadata={
            "help": "feed the depth model frames at their own aspect ratio where it takes non-square inputs "
            "(default; DPT-Hybrid: 224x384 instead of 384x384, 0.57x the FLOPs; Depth Anything does this anyway; "
            "plain-ViT DPT keeps its square input); --no_keep_aspect_ratio: the checkpoint's own input size"
        },
    )
    channels_last: bool = field(default=False, metadata={"help": "NHWC memory layout for the depth model"})


def main(argv=None) -> int:
    parser = HfArgumentParser(PrepareArguments)
    (args,) = parser.parse_args_into_dataclasses(args=argv)
    state = partial_state()
    logging.basicConfig(
        format=f"%(asctime)s [process {state.process_index}] %(levelname)s %(name)s: %(message)s",
        level=logging.INFO,
    )
    options = None
    if args.depth_crf is not None:
        options = {"crf": str(args.depth_crf), "preset": "veryfast", "tune": "fastdecode"}
    try:
        summary = prepare_ssv2(
            args.videos,
            args.labels,
            args.output_dir,
            args.depth_model,
            splits=args.splits,
            shard_size=args.shard_size,
            batch_size=args.batch_size,
            num_workers=args.num_workers,
            encode_threads=args.encode_threads,
            decode_backend=args.decode_backend,
            depth_codec_options=options,
            extract_dir=args.extract_dir,
            keep_extracted=args.keep_extracted,
            retry_failed=args.retry_failed,
            normalize=args.normalize,
            local_files_only=args.local_files_only,
            autocast_dtype=None if args.depth_precision == "default" else args.depth_precision,
            keep_aspect_ratio="auto" if args.keep_aspect_ratio else None,
            channels_last=args.channels_last,
        )
    except SSv2InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
