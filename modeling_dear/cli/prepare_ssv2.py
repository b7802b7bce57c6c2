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

from ..data.ssv2 import SPLITS, SSv2InputError, partial_state, prepare_ssv2
from .depth_arguments import DepthArguments


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
    splits: list[str] = field(default_factory=lambda: list(SPLITS), metadata={"help": "splits to build"})
    extract_dir: str | None = field(
        default=None,
        metadata={"help": "where archive parts are extracted (default: inside output_dir, deleted at the end)"},
    )
    keep_extracted: bool = field(default=False, metadata={"help": "keep the extracted videos"})


def main(argv=None) -> int:
    parser = HfArgumentParser((PrepareArguments, DepthArguments))
    args, depth = parser.parse_args_into_dataclasses(args=argv)
    state = partial_state()
    logging.basicConfig(
        format=f"%(asctime)s [process {state.process_index}] %(levelname)s %(name)s: %(message)s",
        level=logging.INFO,
    )
    try:
        summary = prepare_ssv2(
            args.videos,
            args.labels,
            args.output_dir,
            depth.depth_model,
            splits=args.splits,
            extract_dir=args.extract_dir,
            keep_extracted=args.keep_extracted,
            **depth.engine_kwargs(),
        )
    except SSv2InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
