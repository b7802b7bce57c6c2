# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""`dear-prepare`: make any video dataset RGB-D (its videos plus per-frame estimated depth), from the layout you
already have, and optionally push it to the Hub.

    dear-prepare --format videofolder --source /data/clips --output_dir /data/clips_depth
    dear-prepare --format split_lists --train_list train.txt --validation_list val.txt --data_prefix /data/videos \\
        --class_names classes.txt --output_dir /data/mine_depth
    dear-prepare --format ucf101 --source /data/UCF-101 --annotations /data/ucfTrainTestlist --split_number 1 ...
    dear-prepare --format hmdb51 --source /data/hmdb51 --annotations /data/testTrainMulti_7030_splits ...
    dear-prepare --format kinetics --source /data/k400/videos --annotations train.csv validate.csv ...
    dear-prepare --format segments --source /data/EPIC-KITCHENS --annotations train=EPIC_100_train.csv \\
        validation=EPIC_100_validation.csv --label_column verb_class --output_dir /data/epic_verbs_depth
    dear-prepare --format epic_kitchens --source /data/EPIC-KITCHENS --annotations /data/epic-kitchens-100-annotations \
        --output_dir /data/epic_depth     # verb and noun label sets, the test split without labels
    dear-prepare --format datasets --source user/my-video-dataset --output_dir /data/mine_depth \\
        --license cc-by-4.0 --push_to_hub user/my-video-dataset-depth
    dear-prepare --format ssv2 --source /data/ssv2/downloads --annotations /data/ssv2/labels --output_dir ...

Several processes: `accelerate launch --num_processes 8 -m modeling_dear.cli.prepare ...` (each takes every 8th
shard). `python -m modeling_dear.cli.prepare` and `examples/prepare_dataset.py` take the same arguments. Run the
same command again to resume: finished shards are kept. The readers are in `modeling_dear.data.sources`, the
preparation in `modeling_dear.data.prepare`, the upload in `modeling_dear.hub.dataset_push`. Exit status 2 (and
one line on stderr) when the inputs are unusable, before anything is written.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path

from transformers import HfArgumentParser

from ..data.sources import SourceData, SourceInputError
from .depth_arguments import DepthArguments

FORMATS = (
    "auto",
    "videofolder",
    "split_lists",
    "ucf101",
    "hmdb51",
    "kinetics",
    "segments",
    "epic_kitchens",
    "datasets",
    "ssv2",
)


@dataclass
class SourceArguments:
    output_dir: str = field(metadata={"help": "dataset folder to write (Parquet shards + dataset card)"})
    format: str = field(
        default="auto",
        metadata={"help": "layout of the source: " + ", ".join(FORMATS[1:]) + " (auto: videofolder when obvious)"},
    )
    source: str | None = field(
        default=None,
        metadata={
            "help": "the videos: videofolder root; folder of the videos (split_lists: see --data_prefix; ucf101, "
            "hmdb51, kinetics, segments, ssv2); a datasets folder or Hub id (datasets)"
        },
    )
    annotations: list[str] = field(
        default_factory=list,
        metadata={
            "help": "ucf101/hmdb51: the split-list folder; kinetics: the CSVs; segments: the tables, as FILE or "
            "SPLIT=FILE; epic_kitchens: the annotations folder (EPIC_100_*.csv); ssv2: the labels folder or zip"
        },
    )
    train_list: str | None = field(default=None, metadata={"help": "split_lists: the train list (`path label` lines)"})
    validation_list: str | None = field(default=None, metadata={"help": "split_lists: the validation list"})
    test_list: str | None = field(default=None, metadata={"help": "split_lists: the test list (labels optional)"})
    data_prefix: str | None = field(
        default=None, metadata={"help": "split_lists: folder the listed paths are relative to (default: the list's)"}
    )
    class_names: str | None = field(
        default=None, metadata={"help": "file of class names in id order (one per line, `id name`, or id,name CSV)"}
    )
    split_number: int = field(default=1, metadata={"help": "ucf101/hmdb51: which of the three official splits"})
    kinetics_clips: str = field(
        default="auto", metadata={"help": "kinetics: 'trimmed' clips, 'full' videos cut by time_start/time_end, auto"}
    )
    label_column: str | None = field(
        default=None,
        metadata={"help": "segments/datasets: the label column (segments: several, comma-separated, as label sets)"},
    )
    video_column: str | None = field(default=None, metadata={"help": "segments/datasets: the video column"})
    start_column: str | None = field(default=None, metadata={"help": "segments: the start column"})
    end_column: str | None = field(default=None, metadata={"help": "segments: the end column"})
    id_column: str | None = field(default=None, metadata={"help": "segments: a column of unique segment ids"})
    time_unit: str = field(default="seconds", metadata={"help": "segments: 'seconds' (or HH:MM:SS.ff) or 'frames'"})
    dataset_config: str | None = field(default=None, metadata={"help": "datasets: the configuration name"})
    dataset_revision: str | None = field(default=None, metadata={"help": "datasets: the Hub revision"})
    license: str | None = field(
        default=None,
        metadata={"help": "the source's licence for the card (e.g. cc-by-4.0); needed by --push_to_hub"},
    )
    push_to_hub: str | None = field(default=None, metadata={"help": "upload the finished dataset to this Hub repo"})
    hub_private: bool = field(default=False, metadata={"help": "create the Hub repository private"})
    hub_token: str | None = field(default=None, metadata={"help": "Hub token (default: the logged-in one)"})


@dataclass
class EngineArguments(DepthArguments):
    splits: list[str] | None = field(default=None, metadata={"help": "splits to build (default: all)"})
    use_cpu: bool = field(
        default=False,
        metadata={"help": "run on CPUs even where there are GPUs"},
    )
    extract_dir: str | None = field(default=None, metadata={"help": "ssv2: where archive parts are extracted"})
    keep_extracted: bool = field(default=False, metadata={"help": "ssv2: keep the extracted videos"})


def _need(value, option: str, fmt: str):
    if not value:
        raise SourceInputError(f"--format {fmt} needs {option}")
    return value


def _split_tables(items: list[str]) -> dict[str | None, str]:
    tables: dict[str | None, str] = {}
    for item in items:
        split, sep, file = item.partition("=")
        tables[split if sep else None] = file if sep else item
    return tables


def read_source(args: SourceArguments) -> SourceData:
    """The `SourceData` of the chosen format (`SourceInputError` for unusable inputs)."""
    fmt = args.format
    if fmt == "auto":
        from ..data.sources.videofolder import looks_like_videofolder

        if args.source and looks_like_videofolder(args.source) and not args.annotations:
            fmt = "videofolder"
        elif args.source and not Path(args.source).exists() and not args.annotations:
            raise SourceInputError(f"{args.source}: no such folder; give the dataset's folder with --source")
        else:
            raise SourceInputError(
                f"{args.source}: the layout is not obvious; choose one with --format ({', '.join(FORMATS[1:])})"
            )
    if fmt == "videofolder":
        from ..data.sources.videofolder import read_videofolder

        source = read_videofolder(_need(args.source, "--source (the root folder)", fmt), class_names=args.class_names)
    elif fmt == "split_lists":
        from ..data.sources.split_lists import read_split_lists

        lists = {
            s: f
            for s, f in (("train", args.train_list), ("validation", args.validation_list), ("test", args.test_list))
            if f
        }
        _need(lists, "--train_list, --validation_list and/or --test_list", fmt)
        source = read_split_lists(lists, args.data_prefix or args.source or "", args.class_names)
    elif fmt in ("ucf101", "hmdb51"):
        from ..data.sources.split_lists import read_hmdb51, read_ucf101

        reader = read_ucf101 if fmt == "ucf101" else read_hmdb51
        annotations = _need(args.annotations, "--annotations (the split-list folder)", fmt)
        source = reader(_need(args.source, "--source (the video folder)", fmt), annotations[0], args.split_number)
    elif fmt == "kinetics":
        from ..data.sources.kinetics import read_kinetics

        if args.kinetics_clips not in ("auto", "trimmed", "full"):
            raise SourceInputError(f"--kinetics_clips {args.kinetics_clips!r}: use auto, trimmed or full")
        trimmed = {"auto": None, "trimmed": True, "full": False}[args.kinetics_clips]
        source = read_kinetics(
            _need(args.annotations, "--annotations (the CSVs)", fmt),
            _need(args.source, "--source (the video folder)", fmt),
            trimmed,
            args.class_names,
        )
    elif fmt == "segments":
        from ..data.sources.segments import read_segments

        source = read_segments(
            _split_tables(_need(args.annotations, "--annotations (the tables)", fmt)),
            _need(args.source, "--source (the video folder)", fmt),
            args.label_column or "label",
            video_column=args.video_column,
            start_column=args.start_column,
            end_column=args.end_column,
            id_column=args.id_column,
            time_unit=args.time_unit,
            class_names=args.class_names,
        )
    elif fmt == "epic_kitchens":
        from ..data.sources.epic_kitchens import read_epic_kitchens

        annotations = _need(args.annotations, "--annotations (the EPIC-Kitchens-100 annotations folder)", fmt)
        source = read_epic_kitchens(
            annotations[0], _need(args.source, "--source (the video folder)", fmt), time_unit=args.time_unit
        )
    elif fmt == "datasets":
        from ..data.sources.hf_dataset import read_datasets

        source = read_datasets(
            _need(args.source, "--source (a datasets folder or Hub id)", fmt),
            Path(args.output_dir) / ".source_videos",
            video_column=args.video_column,
            label_column=args.label_column,
            config_name=args.dataset_config,
            revision=args.dataset_revision,
        )
    else:
        raise SourceInputError(f"--format {fmt!r}: choose one of {', '.join(FORMATS)}")
    if args.license:
        source.license = args.license
    return source


def _engine_kwargs(engine: EngineArguments) -> dict:
    return dict(splits=engine.splits, **engine.engine_kwargs())


def check_push(args: SourceArguments, source: SourceData | None) -> None:
    """Refuse `--push_to_hub` before any work when the source's licence forbids it or is not stated."""
    if not args.push_to_hub:
        return
    from ..hub.dataset_push import SSV2_REASON

    if source is None:  # ssv2
        raise SourceInputError(f"--push_to_hub {args.push_to_hub}: refused: {SSV2_REASON}")
    if source.redistribution_forbidden:
        raise SourceInputError(f"--push_to_hub {args.push_to_hub}: refused: {source.redistribution_forbidden}")
    if not source.license:
        raise SourceInputError(
            f"--push_to_hub {args.push_to_hub}: the source's licence is unknown; state it with --license (e.g. "
            "cc-by-4.0) if it allows redistribution"
        )


def _use_cpu(engine: EngineArguments) -> None:
    """`--use_cpu`: on CPUs even where there are GPUs (several processes launched on a machine without GPUs join
    on the CPUs anyway: `data.prepare.partial_state`)."""
    import os

    if engine.use_cpu:
        os.environ["ACCELERATE_USE_CPU"] = "true"


def run(args: SourceArguments, engine: EngineArguments, api=None) -> int:
    from ..data.prepare import partial_state

    _use_cpu(engine)
    state = partial_state()
    logging.basicConfig(
        format=f"%(asctime)s [process {state.process_index}] %(levelname)s %(name)s: %(message)s",
        level=logging.INFO,
    )
    kwargs = _engine_kwargs(engine)
    try:
        if args.format == "ssv2":
            from ..data.ssv2 import SPLITS, prepare_ssv2

            check_push(args, None)
            kwargs["splits"] = kwargs["splits"] or list(SPLITS)
            summary = prepare_ssv2(
                _need(args.source, "--source (the videos or archive parts)", "ssv2"),
                _need(args.annotations, "--annotations (the labels folder or zip)", "ssv2")[0],
                args.output_dir,
                engine.depth_model,
                extract_dir=engine.extract_dir,
                keep_extracted=engine.keep_extracted,
                **kwargs,
            )
        else:
            from ..data.prepare import prepare_dataset

            source = read_source(args)
            check_push(args, source)
            summary = prepare_dataset(source, args.output_dir, engine.depth_model, **kwargs)
        print(summary)
        if args.push_to_hub and summary.complete:
            from ..hub.dataset_push import push_dataset_to_hub

            try:
                pushed = push_dataset_to_hub(
                    args.output_dir, args.push_to_hub, private=args.hub_private or None, token=args.hub_token, api=api
                )
            except SourceInputError:
                raise
            except Exception as error:  # the Hub: no token, no access, the network
                first = (str(error).strip().splitlines() or [type(error).__name__])[0][:300]
                print(
                    f"error: the push to {args.push_to_hub} stopped ({type(error).__name__}: {first}); the dataset is "
                    f"complete in {args.output_dir}: run the same command again to resume the upload",
                    file=sys.stderr,
                )
                return 1
            print(
                f"pushed to {args.push_to_hub}: {len(pushed['uploaded'])} files uploaded, {len(pushed['unchanged'])} "
                f"already there, {len(pushed['deleted'])} stale shards deleted, in {pushed['commits']} commits"
            )
    except SourceInputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def main(argv=None, api=None) -> int:
    parser = HfArgumentParser((SourceArguments, EngineArguments))
    args, engine = parser.parse_args_into_dataclasses(args=argv)
    return run(args, engine, api)


if __name__ == "__main__":
    sys.exit(main())
