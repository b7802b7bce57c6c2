# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""The options of a preparation that `dear-prepare` and `dear-prepare-ssv2` share: the depth model, how it runs,
how the depth is stored, and how the work is cut and spread. One dataclass, so the two commands cannot drift apart."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..data.prepare import DEFAULT_SHARD_SIZE
from ..depth_estimation import DEFAULT_DEPTH_MODEL, DEFAULT_NORMALIZATION


@dataclass
class DepthArguments:
    depth_model: str = field(default=DEFAULT_DEPTH_MODEL, metadata={"help": "transformers depth checkpoint or path"})
    shard_size: int = field(
        default=DEFAULT_SHARD_SIZE, metadata={"help": "clips per Parquet shard (unit of resumption)"}
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
    retry_failed: bool = field(default=False, metadata={"help": "redo finished shards that recorded failed clips"})
    decode_backend: str = field(default="auto", metadata={"help": "auto, decord or pyav"})
    local_files_only: bool = field(default=False, metadata={"help": "never contact the Hub for the depth model"})
    # The fast path is the default for new datasets (README, Performance, "Depth extraction": >= 3x the per-frame
    # pipeline); plan.json records the settings, so a resume with others is refused, naming them.
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

    def engine_kwargs(self) -> dict:
        """The keyword arguments of `prepare_dataset` / `prepare_ssv2` these options stand for."""
        options = None
        if self.depth_crf is not None:
            options = {"crf": str(self.depth_crf), "preset": "veryfast", "tune": "fastdecode"}
        return dict(
            shard_size=self.shard_size,
            batch_size=self.batch_size,
            num_workers=self.num_workers,
            encode_threads=self.encode_threads,
            decode_backend=self.decode_backend,
            depth_codec_options=options,
            retry_failed=self.retry_failed,
            normalize=self.normalize,
            local_files_only=self.local_files_only,
            autocast_dtype=None if self.depth_precision == "default" else self.depth_precision,
            keep_aspect_ratio="auto" if self.keep_aspect_ratio else None,
            channels_last=self.channels_last,
        )
