# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""The recipe on any prepared dataset: SSv2's frame sampling and flipping as options (saved with the processor, so the
pipeline samples as training did), `--streaming` (two real processes reading disjoint shards of a local Parquet
folder), `--encoder_module` (a custom encoder trained from the command line), and one-line errors for bad values.

Why one module: the streams, Parquet folders and the custom-encoder file built here serve every test of the recipe's
any-dataset options, from the argument checks through two real processes."""

import json
import os
import subprocess
import sys
from pathlib import Path

import datasets
import numpy as np
import pytest
import torch
from conftest import CLASSES, arguments, free_port, tiny_config_file

from modeling_dear import DearConfig, DearVideoProcessor
from modeling_dear.cli.train import main as train_main
from modeling_dear.frame_sampling import sample_frame_indices
from modeling_dear.training.arguments import ArgumentError, DataArguments, ModelArguments, parse_arguments
from modeling_dear.training.encoder_modules import import_encoder_module
from modeling_dear.training.recipe import build_processor
from modeling_dear.training.streaming import RepeatedStream, StreamingSplits, process_share

pytestmark = pytest.mark.usefixtures("one_torch_thread")

ROOT = Path(__file__).resolve().parents[1]
ONE_STEP = ["--do_train", "--max_steps", "1", "--eval_strategy", "no", "--save_strategy", "no"]

# an encoder module as a user writes one (README "Adding an encoder"): frame differences, patch embedding, LayerNorm
ENCODER_MODULE = """
from torch import nn

from modeling_dear import DearEncoder, DearEncoderOutput, register_encoder

PATCH = 8


@register_encoder("{name}")
class CommandLineDifferenceEncoder(DearEncoder):
    def __init__(self, config, modality, hidden_size=16):
        super().__init__()
        self.modality = modality
        self.hidden_size = hidden_size
        self.embed = nn.Conv3d(config.num_channels, hidden_size, (1, PATCH, PATCH), (1, PATCH, PATCH))
        self.norm = nn.LayerNorm(hidden_size)

    def forward(self, pixel_values, backbone_hidden_states=None, output_hidden_states=False,
                output_attentions=False, attn_implementation="sdpa"):
        differences = (pixel_values[:, 1:] - pixel_values[:, :-1]).transpose(1, 2)
        tokens = self.norm(self.embed(differences).flatten(2).transpose(1, 2))
        return DearEncoderOutput(
            last_hidden_state=tokens,
            pooler_output=tokens.mean(dim=1),
            hidden_states=(tokens,) if output_hidden_states else None,
        )
"""


def write_encoder_module(folder: Path, file_name: str, encoder_type: str) -> Path:
    path = folder / file_name
    path.write_text(ENCODER_MODULE.format(name=encoder_type))
    return path


def config_with_encoder(folder: Path, encoder_type: str, modality: str, classes) -> Path:
    config = DearConfig.from_preset(
        "tiny-s4v-rgb",
        encoders=["rgb_side4video", "motion"],
        encoder_configs={"motion": {"type": encoder_type, "modality": modality, "hidden_size": 24}},
        num_frames=4,
        image_size=32,
        id2label=dict(enumerate(classes)),
    )
    path = folder / "motion.json"
    config.to_json_file(path)
    return path


# ---------------------------------------------------------------------------------------------------- bad values


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--frame_stride", "0"], r"^--frame_stride 0: must be a whole number of frames >= 1"),
        (["--sampling", "foo"], r"^--sampling foo: must be one of segment, stride"),
        (["--sampling", "segment", "--frame_stride", "8"], r"^--frame_stride 8 applies to --sampling stride only"),
        (["--flip", "maybe"], r"^--flip maybe: must be on or off"),
        (["--streaming", "--do_train"], r"^--streaming: .* needs --max_steps N"),
        (
            ["--streaming", "--do_train", "--max_steps", "5", "--max_train_samples", "3"],
            r"^--max_train_samples does not apply to --streaming",
        ),
        (["--streaming", "--max_steps", "5", "--shuffle_buffer_size", "0"], r"^--shuffle_buffer_size 0: must be >= 1"),
    ],
)
def test_bad_values_of_the_new_options_are_refused_naming_option_and_fix(argv, message):
    with pytest.raises(ArgumentError, match=message) as error:
        parse_arguments(["--output_dir", "unused", *argv])
    assert "\n" not in str(error.value)


def test_flip_takes_on_and_off():
    assert parse_arguments(["--flip", "off"])[1].flip is False
    assert parse_arguments(["--flip", "ON"])[1].flip is True
    assert parse_arguments([])[1].flip is None  # SSv2's (on), or the saved processor's


def test_frame_stride_against_a_saved_segment_processor_is_refused(tmp_path):
    config = DearConfig.from_preset("tiny", num_frames=4, image_size=32, id2label=dict(enumerate(CLASSES)))
    DearVideoProcessor.from_model_config(config).save_pretrained(tmp_path)
    config.save_pretrained(tmp_path)
    with pytest.raises(ArgumentError, match=r"--frame_stride 8 applies to --sampling stride only \(this processor"):
        build_processor(config, DataArguments(frame_stride=8), ModelArguments(model_name_or_path=str(tmp_path)))
    # with --sampling stride the saved processor is switched, and keeps everything else
    processor = build_processor(
        config, DataArguments(sampling="stride", frame_stride=8), ModelArguments(model_name_or_path=str(tmp_path))
    )
    assert (processor.sampling, processor.frame_stride, processor.num_frames) == ("stride", 8, 4)


def test_the_command_line_prints_one_line_and_exits_2(capsys):
    assert train_main(["--frame_stride", "0", "--output_dir", "unused"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "dear-train: error: --frame_stride 0: must be a whole number of frames >= 1 (e.g. 4, or 8 for 30 fps "
        "Kinetics clips)"
    ]


def test_encoder_modules_that_cannot_work_are_refused_naming_them(tmp_path, capsys):
    with pytest.raises(ArgumentError, match=r"^--encoder_module missing\.py: no such file; give the path"):
        import_encoder_module("missing.py")
    with pytest.raises(ArgumentError, match=r"^--encoder_module no_such_encoders_xyz: no module of that name"):
        import_encoder_module("no_such_encoders_xyz")
    empty = tmp_path / "registers_nothing.py"
    empty.write_text("VALUE = 1\n")
    with pytest.raises(ArgumentError, match=r"registers_nothing\.py: imported, but it registers no encoder type"):
        import_encoder_module(str(empty))
    # through the command line: one line, exit status 2, before any data is read
    assert train_main(["--encoder_module", str(tmp_path / "nope.py"), "--output_dir", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0


# ---------------------------------------------------------------------------------------------- sampling and flips


def test_flip_pairs_come_from_the_class_names_and_a_flip_without_pairs_keeps_the_label(make_frames):
    video = make_frames(8, 40, 48, seed=0)

    def labels_after_training_views(classes, label):
        config = DearConfig.from_preset("tiny", num_frames=4, image_size=32, id2label=dict(enumerate(classes)))
        processor = build_processor(config, DataArguments(randaugment_num_ops=0), ModelArguments())
        out = processor([video] * 24, labels=[label] * 24, mode="train", seed=0, return_tensors="pt")
        return processor, out["labels"].tolist()

    processor, labels = labels_after_training_views(["turning left", "turning right", "jumping"], 0)
    assert processor.flip_label_pairs == [[0, 1]] and processor.flip_prob == 0.5
    assert set(labels) == {0, 1}  # flipped clips of "turning left" are "turning right"
    processor, labels = labels_after_training_views(["running", "jumping", "sitting"], 0)
    assert processor.flip_label_pairs == [] and set(labels) == {0}  # flipped, and still "running"
    config = DearConfig.from_preset(
        "tiny", num_frames=4, image_size=32, id2label={0: "turning left", 1: "turning right"}
    )
    assert build_processor(config, DataArguments(flip=False), ModelArguments()).flip_prob == 0.0


def test_stride_sampling_is_saved_with_the_model_and_the_pipeline_samples_the_same(colour_dataset, tmp_path):
    from transformers import pipeline

    config_file = tiny_config_file(tmp_path, "tiny-s4v-rgb")
    output = tmp_path / "run"
    assert (
        train_main(
            arguments(
                colour_dataset,
                output,
                config_file,
                *ONE_STEP,
                "--sampling",
                "stride",
                "--frame_stride",
                "2",
                "--flip",
                "off",
            )
        )
        == 0
    )
    saved = json.loads((output / "preprocessor_config.json").read_text())
    assert (saved["sampling"], saved["frame_stride"], saved["flip_prob"], saved["flip_label_pairs"]) == (
        "stride",
        2,
        0.0,
        [],
    )
    assert "frames sampled 2 apart, no flips" in (output / "README.md").read_text()
    video = tmp_path / "clip.mp4"
    video.write_bytes(datasets.load_from_disk(str(colour_dataset))["validation"][0]["video"]["bytes"])
    classify = pipeline("video-classification", model=str(output))
    indices = classify.preprocess(str(video))["frame_indices"]
    # 10 frames, 4 of them 2 apart, centred: [1, 3, 5, 7] (segment centres would be [1, 3, 6, 8])
    expected = sample_frame_indices(10, 4, mode="val", sampling="stride", frame_stride=2)
    assert np.asarray(indices).reshape(-1).tolist() == expected.tolist() == [1, 3, 5, 7]


# ----------------------------------------------------------------------------------------------------- streaming


def small_stream(num_shards: int, rows: int = 12):
    return datasets.Dataset.from_dict(
        {"video_id": [f"clip-{i:02d}" for i in range(rows)], "label": [i % 3 for i in range(rows)]}
    ).to_iterable_dataset(num_shards=num_shards)


@pytest.mark.parametrize("num_shards", [4, 3])
def test_each_process_share_is_disjoint_and_a_shard_count_that_does_not_divide_is_said(num_shards, caplog):
    shares = []
    with caplog.at_level("INFO", logger="modeling_dear.training.streaming"):
        for rank in range(2):
            shares.append(
                [
                    row["video_id"]
                    for row in process_share(small_stream(num_shards), rank=rank, world_size=2, seed=3, buffer_size=4)
                ]
            )
    assert not set(shares[0]) & set(shares[1])
    assert sorted(shares[0] + shares[1]) == [f"clip-{i:02d}" for i in range(12)]
    if num_shards == 4:
        assert "4 shards over 2 processes, 2 each" in caplog.text
    else:
        assert "has 3 shard(s), not a multiple of the 2 processes, so every process reads all of them" in caplog.text


def test_a_process_stream_repeats_reshuffled_and_checks_labels():
    stream = RepeatedStream(process_share(small_stream(4), rank=0, world_size=1, seed=0, buffer_size=12), num_labels=3)
    rows = [row["video_id"] for _, row in zip(range(24), stream, strict=False)]
    first, second = rows[:12], rows[12:]
    assert sorted(first) == sorted(second) == [f"clip-{i:02d}" for i in range(12)] and first != second
    with pytest.raises(ValueError, match=r"training row 'clip-02' has label 2, outside the model's \[0, 2\) classes"):
        list(zip(range(24), RepeatedStream(small_stream(1), num_labels=2), strict=False))
    with pytest.raises(ValueError, match="process 1 got no training rows"):
        next(
            iter(
                RepeatedStream(
                    process_share(small_stream(1, rows=1), rank=1, world_size=2, seed=0, buffer_size=1), rank=1
                )
            )
        )


@pytest.mark.parametrize(
    "workers",
    [
        0,
        pytest.param(
            2,
            marks=pytest.mark.xfail(
                strict=False,
                reason="open: with 2 loader workers the resumed batches were once not those of the uninterrupted "
                "run (1 of 4 runs of this case in one process, the uninterrupted stream itself repeating); resume "
                "of a stream read by several workers is not yet bit-exact",
            ),
        ),
    ],
)
def test_a_resumed_stream_passes_over_the_trained_batches_undecoded(workers):
    """What a resumed --streaming run reads: the batches after the trained ones, as an uninterrupted run reads them,
    without collating (decoding) the skipped ones, also when DataLoader workers build the batches in turn."""
    collated = []

    def collate(rows):
        collated.append(len(rows))
        return [row["video_id"] for row in rows]

    def loader(skip=0):
        stream = RepeatedStream(process_share(small_stream(4), rank=0, world_size=1, seed=5, buffer_size=3))
        stream.resume_after(skip, 2)
        return torch.utils.data.DataLoader(stream, batch_size=2, num_workers=workers, collate_fn=collate)

    uninterrupted = [batch for _, batch in zip(range(10), loader(), strict=False)]
    collated.clear()
    resumed = [batch for _, batch in zip(range(6), loader(skip=3), strict=False)]
    if workers == 0:
        assert resumed == uninterrupted[3:9]
        assert len(collated) == 6  # the 3 skipped batches were never collated
    else:
        # each worker resumes its own batches exactly; the DataLoader takes them in turn from worker 0 again, so
        # within a round of workers the order may differ (here #4, #3, #6, #5, ...): the same batches, none lost
        assert resumed != uninterrupted[3:9]
        assert sorted(map(tuple, resumed)) == sorted(map(tuple, uninterrupted[3:9]))


def write_parquet_folder(dataset_dict, folder: Path, shards: dict) -> Path:
    (folder / "data").mkdir(parents=True)
    for split, dataset in dataset_dict.items():
        count = shards.get(split, 1)
        for index in range(count):
            part = dataset.shard(count, index, contiguous=True)
            part.to_parquet(str(folder / "data" / f"{split}-{index:05d}-of-{count:05d}.parquet"))
    return folder


def test_streaming_splits_stream_training_and_read_the_evaluation_split_whole(colour_dataset, tmp_path):
    folder = write_parquet_folder(datasets.load_from_disk(str(colour_dataset)), tmp_path / "pq", {"train": 2})
    splits = StreamingSplits(DataArguments(dataset=str(folder), streaming=True), "train", world_size=2)
    assert list(splits) == ["train", "validation"]
    train, validation = splits["train"], splits["validation"]
    assert isinstance(train, datasets.IterableDataset) and train.num_shards == 2
    assert train.features["label"].names == CLASSES  # the classes come with the shards
    assert isinstance(validation, datasets.Dataset) and len(validation) == 9
    # a save_to_disk folder streams too: its training split cut into shards the 2 processes divide
    on_disk = StreamingSplits(DataArguments(dataset=str(colour_dataset), streaming=True), "train", world_size=2)
    assert on_disk["train"].num_shards == 2 and isinstance(on_disk["validation"], datasets.Dataset)
    shares = [
        {row["video_id"] for row in process_share(on_disk["train"], rank=rank, world_size=2, seed=0, buffer_size=2)}
        for rank in range(2)
    ]
    assert not shares[0] & shares[1] and len(shares[0] | shares[1]) == 18
    with pytest.raises(FileNotFoundError, match="--dataset ./no/such/folder: no such folder"):
        StreamingSplits(DataArguments(dataset="./no/such/folder", streaming=True), "train")


@pytest.mark.slow  # two streamed runs, one evaluation (~12 s on the shared 2-core machine)
def test_a_streamed_run_evaluates_the_whole_split_and_resumes_where_it_stopped(colour_dataset, tmp_path, monkeypatch):
    from modeling_dear.training.collator import VideoCollator
    from modeling_dear.training.recipe import run

    batches, collate = [], VideoCollator.__call__

    def recording(self, rows):
        if self.mode == "train":
            batches.append([row["video_id"] for row in rows])
        return collate(self, rows)

    monkeypatch.setattr(VideoCollator, "__call__", recording)
    folder = write_parquet_folder(datasets.load_from_disk(str(colour_dataset)), tmp_path / "pq", {"train": 3})
    config_file = tiny_config_file(tmp_path, "tiny-s4v-rgb")
    output = tmp_path / "run"
    # "epoch" saving happens once, at --max_steps
    results = run(
        arguments(
            folder,
            output,
            config_file,
            *["--streaming", "--do_train", "--do_eval", "--max_steps", "2"],
            *["--eval_strategy", "no"],
        )
    )
    log = json.loads((output / "trainer_state.json").read_text())["log_history"]
    assert [entry["step"] for entry in log if "loss" in entry] == [1, 2] and (output / "checkpoint-2").is_dir()
    assert 0 <= results["eval"]["eval_top1"] <= 1 and set(results["eval"]["eval_per_class_accuracy"]) == set(CLASSES)
    # the batch after the 2 trained ones (read ahead by the loader) is where the re-run with more steps goes on
    first_run, batches[:] = list(batches), []
    run(
        arguments(folder, output, config_file, "--streaming", "--do_train", "--max_steps", "3", "--eval_strategy", "no")
    )
    assert batches[0] == first_run[2] and not set(batches[0]) & set(first_run[0] + first_run[1])


# ---------------------------------------------------------------------------------------------- custom encoders


@pytest.fixture(scope="module")
def flow_dataset(tmp_path_factory, make_frames):
    """Six clips with a `flow` column beside `video`, saved as a DatasetDict folder."""
    from modeling_dear.video_io import encode_video

    rows = []
    for index in range(6):
        frames = make_frames(8, 40, 48, seed=index)
        flow = np.abs(np.diff(frames.astype(np.int16), axis=0, prepend=frames[:1])).clip(0, 63).astype(np.uint8) * 4
        rows.append(
            {
                "video_id": f"clip-{index}",
                "video": encode_video(frames, codec="libx264"),
                "flow": encode_video(flow, codec="libx264"),
                "label": index % 3,
            }
        )
    features = datasets.Features(
        {
            "video_id": datasets.Value("string"),
            "video": datasets.Video(decode=False),
            "flow": datasets.Video(decode=False),
            "label": datasets.ClassLabel(names=CLASSES),
        }
    )
    split = datasets.Dataset.from_list(rows, features=features)
    folder = tmp_path_factory.mktemp("flow") / "data"
    datasets.DatasetDict({"train": split, "validation": split}).save_to_disk(str(folder))
    return folder


def test_a_custom_encoder_trains_from_the_command_line_saves_and_reloads(flow_dataset, tmp_path):
    from transformers import AutoModelForVideoClassification

    module = write_encoder_module(tmp_path, "my_cli_encoders.py", "cli_frame_difference")
    config_file = config_with_encoder(tmp_path, "cli_frame_difference", "flow", CLASSES)
    output = tmp_path / "run"
    argv = arguments(flow_dataset, output, config_file, *ONE_STEP, "--encoder_module", str(module))
    assert train_main(argv) == 0
    log = json.loads((output / "trainer_state.json").read_text())["log_history"]
    assert [entry["step"] for entry in log if "loss" in entry] == [1]
    assert (output / "custom_encoder_cli_frame_difference.py").is_file()  # the folder carries the encoder
    model = AutoModelForVideoClassification.from_pretrained(output).eval()
    assert type(model.dear.encoders["motion"]).__name__ == "CommandLineDifferenceEncoder"
    processor = DearVideoProcessor.from_pretrained(output)
    row = datasets.load_from_disk(str(flow_dataset))["validation"][0]
    inputs = processor(row["video"], flow=row["flow"], mode="val")
    with torch.no_grad():
        logits = model(pixel_values=inputs["pixel_values"], flow_pixel_values=inputs["flow_pixel_values"]).logits
    assert logits.shape == (1, 3) and torch.isfinite(logits).all()


# ------------------------------------------------------------------------------------ two processes, streaming


@pytest.fixture(scope="module")
def synthetic_parquet(tmp_path_factory):
    """The built-in synthetic dataset at a tiny size (12 classes, one training clip each), as 4 training shards."""
    from modeling_dear.data.synthetic import SyntheticSpec, generate_synthetic_dataset

    spec = SyntheticSpec(
        num_train_per_class=1,
        num_validation_per_class=1,
        num_test_per_class=0,
        height=32,
        width=48,
        min_frames=6,
        max_frames=8,
    )
    return write_parquet_folder(
        generate_synthetic_dataset(spec), tmp_path_factory.mktemp("synthetic") / "pq", {"train": 4}
    )


@pytest.mark.slow  # two launched processes (~20 s)
def test_two_processes_stream_disjoint_shards_with_a_custom_encoder(synthetic_parquet, tmp_path):
    """`examples/run_video_classification.py --streaming` under `accelerate launch` with two gloo processes on a
    local Parquet folder: each process trains on its own 2 of the 4 shards (recorded by tests/streaming_run.py as
    its collator receives them), both import the encoder module, the run evaluates the whole validation split."""
    from modeling_dear.data.synthetic import SYNTHETIC_CLASSES

    module = write_encoder_module(tmp_path, "streamed_encoders.py", "streamed_frame_difference")
    config_file = config_with_encoder(tmp_path, "streamed_frame_difference", "rgb", SYNTHETIC_CLASSES)
    output, records = tmp_path / "run", tmp_path / "records"
    records.mkdir()
    command = [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--config_file",
        str(ROOT / "configuration" / "accelerate" / "multi_cpu_2.yaml"),
        "--main_process_port",
        str(free_port()),
        str(ROOT / "tests" / "streaming_run.py"),
        str(records),
        str(ROOT / "examples" / "run_video_classification.py"),
        *arguments(synthetic_parquet, output, config_file),
        *["--streaming", "--do_train", "--do_predict", "--max_steps", "2", "--shuffle_buffer_size", "4"],
        *[
            "--sampling",
            "stride",
            "--frame_stride",
            "2",
            "--encoder_module",
            str(module),
            "--repeated_augmentation",
            "1",
            "--use_cpu",  # each process on the CPU, joined by gloo (see configuration/accelerate/multi_cpu_2.yaml)
            "true",
            "--eval_strategy",
            "no",
            "--save_strategy",
            "no",
        ],
    ]
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, env=environment, timeout=300)
    assert result.returncode == 0 and "terminate called" not in result.stderr, result.stderr[-3000:]
    assert "4 shards over 2 processes, 2 each" in result.stderr
    seen = [json.loads((records / f"rank{rank}.json").read_text()) for rank in range(2)]
    # 2 steps x 3 videos = each process's 6 rows (2 shards of 3) once; then its stream starts its next pass
    first_pass = [ids[:6] for ids in seen]
    assert not set(first_pass[0]) & set(first_pass[1])
    assert sorted(first_pass[0] + first_pass[1]) == [f"synthetic-train-{i:06d}" for i in range(12)]
    # the validation split is read whole: each of its 12 videos predicted once over the two processes
    predicted = [json.loads(line)["video_id"] for line in (output / "predictions.jsonl").read_text().splitlines()]
    assert sorted(predicted) == [f"synthetic-validation-{i:06d}" for i in range(12)]
    assert (output / "custom_encoder_streamed_frame_difference.py").is_file()
    assert json.loads((output / "preprocessor_config.json").read_text())["sampling"] == "stride"


def test_processes_that_would_each_train_alone_are_refused(monkeypatch, tmp_path):
    """torchrun's processes on CPUs without --use_cpu true: each is a one-process run (all the data, one folder)."""
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(ArgumentError, match=r"^2 processes were launched but each would train alone .* --use_cpu true"):
        from modeling_dear.training.recipe import run

        run(["--output_dir", str(tmp_path / "run"), "--do_train", "--max_steps", "1"])
