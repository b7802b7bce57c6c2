# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""`dear-prepare` end to end on generated trees in each source layout (class folders, split lists, a Kinetics CSV,
segments of long videos, a `datasets` dataset): prepared with a tiny random depth model, read back with
`datasets.load_dataset` with the source's classes and columns, trained one step and predicted; unusable inputs
exit 2 with one line before anything is written; `--push_to_hub` uploads what `load_dataset` reads back, resumably,
and is refused where the licence forbids it."""

import json
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import arguments

from modeling_dear.cli.prepare import main
from modeling_dear.testing_utils import smooth_moving_frames
from modeling_dear.video_io import encode_video, probe_video, read_depth_frames

pytestmark = pytest.mark.usefixtures("one_torch_thread")

CLASSES = ["jump", "run", "walk"]
ENGINE = ["--shard_size", "2", "--batch_size", "8", "--num_workers", "0", "--encode_threads", "1"]


def clip(seed: int, frames: int = 5) -> bytes:
    return encode_video(smooth_moving_frames(frames, 32, 40, seed=seed), fps=10.0, codec="libx264")


def write(path: Path, data) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data) if isinstance(data, bytes) else path.write_text(data)
    return path


def prepare(tmp_path_factory, tiny_dpt, name, *options):
    output = tmp_path_factory.mktemp(name) / "prepared"
    code = main([*options, "--output_dir", str(output), "--depth_model", str(tiny_dpt), *ENGINE])
    assert code == 0
    import datasets

    return output, datasets.load_dataset(str(output), cache_dir=str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="module")
def videofolder(tmp_path_factory, tiny_dpt):
    root = tmp_path_factory.mktemp("videofolder")
    for split, per_class in (("train", 2), ("val", 1)):
        for c, name in enumerate(CLASSES):
            for k in range(per_class):
                write(root / split / name / f"{name}{k}.mp4", clip(10 * c + k + (5 if split == "val" else 0)))
    (root / "train" / "empty").mkdir()  # a class folder with no videos: reported, not a class
    return root, *prepare(tmp_path_factory, tiny_dpt, "vf", "--source", str(root))  # auto-detected


@pytest.fixture(scope="module")
def segments(tmp_path_factory, tiny_dpt):
    """Two long videos (30 frames at 10 fps), several segments each, one of them given twice as EPIC does."""
    root = tmp_path_factory.mktemp("segments")
    write(root / "videos" / "P01" / "P01_01.mp4", clip(1, 30))
    write(root / "videos" / "P02" / "P02_01.mp4", clip(2, 30))
    header = "narration_id,video_id,start_timestamp,stop_timestamp,verb,verb_class\n"
    train = write(
        root / "train.csv",
        header + "P01_01_0,P01_01,00:00:00.00,00:00:00.80,jump,0\nP01_01_1,P01_01,00:00:01.00,00:00:01.50,run,1\n"
        "P02_01_0,P02_01,00:00:00.50,00:00:01.20,walk,2\nP02_01_1,P02_01,00:00:01.20,00:00:02.90,jump,0\n",
    )
    validation = write(root / "validation.csv", header + "P01_01_9,P01_01,00:00:02.00,00:00:02.60,walk,2\n")
    assert (train, validation) == (root / "train.csv", root / "validation.csv")
    return root, *prepare(tmp_path_factory, tiny_dpt, "seg", *segment_options(root))


def segment_options(root: Path) -> list[str]:
    options = ["--format", "segments", "--source", str(root / "videos"), "--label_column", "verb_class"]
    train, validation = root / "train.csv", root / "validation.csv"
    return options + ["--annotations", f"train={train}", f"validation={validation}", "--license", "cc-by-nc-4.0"]


def test_videofolder_prepared_with_its_classes(videofolder):
    root, output, dataset = videofolder
    assert sorted(dataset) == ["train", "validation"]
    assert dataset["train"].features["label"].names == CLASSES
    assert sorted(zip(dataset["train"]["video_id"], dataset["train"]["label"], strict=True)) == [
        ("jump/jump0", 0), ("jump/jump1", 0), ("run/run0", 1), ("run/run1", 1), ("walk/walk0", 2), ("walk/walk1", 2),
    ]  # fmt: skip
    row = dataset["validation"][0]
    assert row["video"]["bytes"] == (root / "val" / f"{row['video_id']}.mp4").read_bytes()  # stored as it is
    assert read_depth_frames(row["depth"], list(range(5))).shape[0] == probe_video(row["depth"]).num_frames == 5
    report = json.loads((output / "prepare_report.json").read_text())
    assert report["skipped"] == [
        {"file": str(root / "train" / "empty"), "line": None, "reason": "class folder with no videos"}
    ]


def test_segments_become_clips_of_their_own(segments):
    root, output, dataset = segments
    train = dataset["train"]
    assert train.features["label"].names == ["0", "1", "2"]
    rows = {r["video_id"]: r for r in train}
    assert sorted(rows) == ["P01_01_0", "P01_01_1", "P02_01_0", "P02_01_1"]
    assert [rows[i]["label"] for i in sorted(rows)] == [0, 1, 2, 0]
    assert rows["P01_01_1"]["verb"] == "run"  # the table's other columns are kept
    # 0.5 s at 10 fps: 5 frames of its own, RGB and depth aligned
    info = probe_video(rows["P01_01_1"]["video"])
    assert info.num_frames == rows["P01_01_1"]["num_frames"] == 5
    assert probe_video(rows["P01_01_1"]["depth"]).num_frames == 5
    card = (output / "README.md").read_text()
    assert "segments" in card and "license: cc-by-nc-4.0" in card


def test_prepared_sources_train_one_step_and_predict(videofolder, segments, tmp_path):
    from modeling_dear import DearConfig
    from modeling_dear.training.recipe import run

    for name, (_, output, dataset) in {"videofolder": videofolder, "segments": segments}.items():
        names = dataset["train"].features["label"].names
        config = tmp_path / f"{name}.json"
        DearConfig.from_preset("tiny", num_frames=4, image_size=32, id2label=dict(enumerate(names))).to_json_file(
            config
        )
        results = run(
            arguments(
                output,
                tmp_path / name,
                config,
                "--do_train",
                "--do_predict",
                "--max_steps",
                "1",
                "--eval_strategy",
                "no",
                "--save_strategy",
                "no",
            )
        )
        assert results["train"]["train_loss"] > 0
        lines = [json.loads(line) for line in (tmp_path / name / "predictions.jsonl").read_text().splitlines()]
        assert sorted(r["video_id"] for r in lines) == sorted(dataset["validation"]["video_id"])
        assert all(r["label_name"] in names and not r.get("failed") for r in lines), lines


def test_ucf101_kinetics_and_datasets_sources_prepared(tmp_path_factory, tiny_dpt):
    import datasets

    root = tmp_path_factory.mktemp("three")
    # UCF101: classInd.txt (1-based), trainlist01.txt with ids, testlist01.txt without (the class is the folder)
    for k, name in enumerate(("Archery/v_Archery_g01_c01.avi", "Bowling/v_Bowling_g01_c01.avi")):
        write(root / "UCF-101" / name, clip(k))
        write(root / "UCF-101" / name.replace("g01", "g08"), clip(k + 5))
    notes = root / "ucfTrainTestlist"
    write(notes / "classInd.txt", "1 Archery\n2 Bowling\n")
    write(notes / "trainlist01.txt", "Archery/v_Archery_g08_c01.avi 1\nBowling/v_Bowling_g08_c01.avi 2\n")
    write(notes / "testlist01.txt", "Bowling/v_Bowling_g01_c01.avi\nArchery/v_Archery_g01_c01.avi\n")
    _, ucf = prepare(tmp_path_factory, tiny_dpt, "ucf", "--format", "ucf101", "--source", str(root / "UCF-101"),
                     "--annotations", str(notes))  # fmt: skip
    assert sorted(ucf) == ["test", "train"] and ucf["test"].features["label"].names == ["Archery", "Bowling"]
    assert dict(zip(ucf["test"]["video_id"], ucf["test"]["label"], strict=True)) == {
        "Archery/v_Archery_g01_c01": 0, "Bowling/v_Bowling_g01_c01": 1,
    }  # fmt: skip

    # Kinetics: full videos cut by time_start/time_end (segments of 0.5 s at 10 fps: 5 frames)
    write(root / "k" / "videos" / "abc.mp4", clip(7, 20))
    write(root / "k" / "videos" / "xyz.mp4", clip(8, 20))
    write(root / "k" / "train.csv", "label,youtube_id,time_start,time_end,split\nsing,abc,0.5,1.0,train\n"
          "dance,xyz,1.0,1.5,train\nsing,lost,0,1,train\n")  # fmt: skip
    output, kinetics = prepare(tmp_path_factory, tiny_dpt, "kin", "--format", "kinetics", "--source",
                               str(root / "k" / "videos"), "--annotations", str(root / "k" / "train.csv"))  # fmt: skip
    assert dict(zip(kinetics["train"]["video_id"], kinetics["train"]["num_frames"], strict=True)) == {
        "abc_000000_000001": 5, "xyz_000001_000001": 5,
    }  # fmt: skip
    report = json.loads((output / "prepare_report.json").read_text())
    assert [(s["line"], s["reason"].split()[0]) for s in report["skipped"]] == [(4, "no")]

    # a datasets dataset: a Video column of bytes, string labels, a column of its own
    rows = {"video": [{"bytes": clip(k), "path": f"{k}.mp4"} for k in range(3)], "label": ["b", "a", "b"]}
    rows["camera"] = ["left", "right", "top"]
    features = datasets.Features({"video": datasets.Video(decode=False), "label": datasets.Value("string"),
                                  "camera": datasets.Value("string")})  # fmt: skip
    datasets.Dataset.from_dict(rows, features=features).save_to_disk(str(root / "saved"))
    _, mine = prepare(tmp_path_factory, tiny_dpt, "ds", "--format", "datasets", "--source", str(root / "saved"))
    assert mine["train"].features["label"].names == ["a", "b"]
    assert mine["train"]["label"] == [1, 0, 1] and mine["train"]["camera"] == ["left", "right", "top"]
    assert mine["train"][2]["video"]["bytes"] == clip(2)


@pytest.mark.slow  # two launched processes importing torch and transformers: ~30 s on 2 busy cores
def test_two_processes_prepare_the_same_dataset(segments, tiny_dpt, tmp_path):
    """`accelerate launch` (the shipped 2-process CPU config) of the example script: each process takes its shards,
    and the dataset equals the one-process preparation row for row, depth bytes included."""
    import os

    import datasets
    from conftest import free_port

    root, _, one_process = segments
    output = tmp_path / "two"
    repository = Path(__file__).parents[1]
    command = [sys.executable, "-m", "accelerate.commands.launch", "--config_file",
               str(repository / "configuration" / "accelerate" / "multi_cpu_2.yaml"), "--main_process_port",
               str(free_port()), "examples/prepare_dataset.py", *segment_options(root), "--output_dir", str(output),
               "--depth_model", str(tiny_dpt), *ENGINE]  # fmt: skip
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, cwd=repository, env=environment, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "process 0 of 2" in result.stdout and "process 1 of 2" in result.stdout
    two_processes = datasets.load_dataset(str(output), cache_dir=str(tmp_path / "cache"))
    for split in ("train", "validation"):
        assert two_processes[split].features == one_process[split].features
        key = {r["video_id"]: r for r in one_process[split]}
        for row in two_processes[split]:
            expected = key.pop(row["video_id"])
            assert row["depth"]["bytes"] == expected["depth"]["bytes"] and row["label"] == expected["label"]
        assert not key


# Bad input: exit 2, one line, nothing written ------------------------------------------------------------------


def run_cli(*argv) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "examples/prepare_dataset.py", *argv],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[1],
        timeout=120,
    )


def test_unusable_inputs_exit_2_with_one_line(tmp_path, tiny_dpt, capsys):
    lists = tmp_path / "lists"
    write(lists / "videos" / "a" / "1.mp4", clip(0))
    write(lists / "classes.txt", "a\nb\n")
    write(lists / "train.txt", "a/1.mp4 0\na/1.mp4 5\n")
    output = tmp_path / "out"
    common = ["--output_dir", str(output), "--depth_model", str(tiny_dpt), *ENGINE]
    bad_label = ["--format", "split_lists", "--train_list", str(lists / "train.txt"), "--data_prefix",
                 str(lists / "videos"), "--class_names", str(lists / "classes.txt")]  # fmt: skip
    cases = [
        (["--source", str(tmp_path / "nothing")], "nothing: no such folder; give the dataset's folder with --source"),
        (["--source", str(lists)], "the layout is not obvious; choose one with --format"),
        (["--format", "kinetics", "--source", str(lists)], "--format kinetics needs --annotations"),
        (["--format", "ssv2", "--source", str(lists), "--annotations", str(lists), "--push_to_hub", "me/x"],
         "refused: Something-Something V2's licence"),
        (["--format", "ssv2", "--source", str(lists), "--annotations", str(lists)], "something-something-v2-labels.json (or labels.json): label file not found"),
    ]  # fmt: skip
    for argv, message in cases:
        assert main([*argv, *common]) == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert message in lines[-1] and lines[-1].startswith("error: "), lines
        assert not output.exists()
    assert main([*bad_label, *common]) == 2
    assert re.search(r"train.txt, line 2: label '5' is not among .*classes.txt", capsys.readouterr().err)
    assert not output.exists()


@pytest.mark.slow  # a fresh interpreter importing torch and transformers: ~5 s idle, 20 s on a busy machine
def test_example_script_exits_2_with_one_line(tmp_path, tiny_dpt):
    lists = tmp_path / "lists"
    write(lists / "videos" / "a" / "1.mp4", clip(0))
    write(lists / "classes.txt", "a\nb\n")
    write(lists / "train.txt", "a/1.mp4 0\na/1.mp4 5\n")
    output = tmp_path / "out"
    bad_label = ["--format", "split_lists", "--train_list", str(lists / "train.txt"), "--data_prefix",
                 str(lists / "videos"), "--class_names", str(lists / "classes.txt")]  # fmt: skip
    result = run_cli(*bad_label, "--output_dir", str(output), "--depth_model", str(tiny_dpt))
    assert result.returncode == 2, result.stderr[-2000:]
    assert re.search(r"train.txt, line 2: label '5' is not among .*classes.txt", result.stderr.strip().splitlines()[-1])
    assert not output.exists()


# Push to the Hub (a local folder) ------------------------------------------------------------------------------


class LocalDatasetHub:
    """The `HfApi` methods a dataset push calls, on a folder instead of a Hub repository: each commit applies
    its operations and is recorded with the files it uploaded."""

    def __init__(self, root: Path):
        self.repository, self.commits = root, []

    def create_repo(self, repo_id, **kwargs):
        self.repository.mkdir(parents=True, exist_ok=True)

    def list_repo_tree(self, repo_id, recursive=False, **kwargs):
        import hashlib

        for path in sorted(self.repository.rglob("*")):
            if path.is_file():
                data = path.read_bytes()
                lfs = {"sha256": hashlib.sha256(data).hexdigest()} if path.suffix == ".parquet" else None
                blob = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
                yield SimpleNamespace(
                    path=path.relative_to(self.repository).as_posix(), size=len(data), lfs=lfs, blob_id=blob
                )

    def create_commit(self, repo_id, operations, commit_message=None, **kwargs):
        uploaded = []
        for operation in operations:
            target = self.repository / operation.path_in_repo
            if hasattr(operation, "path_or_fileobj"):
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(Path(operation.path_or_fileobj).read_bytes())
                uploaded.append(operation.path_in_repo)
            else:
                target.unlink()
        self.commits.append({"message": commit_message, "uploaded": uploaded})


def test_push_uploads_what_load_dataset_reads_and_resumes(segments, tmp_path):
    import datasets

    from modeling_dear.hub.dataset_push import push_dataset_to_hub

    _, output, dataset = segments
    hub = LocalDatasetHub(tmp_path / "repo")
    first = push_dataset_to_hub(output, "me/epic-depth", api=hub, files_per_commit=2, progress=False)
    shards = sorted(p.name for p in (output / "data").glob("*.parquet"))
    assert first["commits"] == len(hub.commits) >= 2 and hub.commits[-1]["uploaded"][-1] == "README.md"
    pushed = datasets.load_dataset(str(hub.repository), cache_dir=str(tmp_path / "cache"))
    assert sorted(pushed["train"]["video_id"]) == sorted(dataset["train"]["video_id"])
    assert pushed["train"].features == dataset["train"].features

    # resumed after the first commit: only what is not there yet (or differs) goes up; stale shards go
    (hub.repository / "README.md").unlink()
    write(hub.repository / "data" / "train-00009-of-00010.parquet", b"old")
    hub.commits.clear()
    again = push_dataset_to_hub(output, "me/epic-depth", api=hub, files_per_commit=2, progress=False)
    assert again["uploaded"] == ["README.md"] and sorted(again["unchanged"]) == [f"data/{s}" for s in shards]
    assert again["deleted"] == ["data/train-00009-of-00010.parquet"] and len(hub.commits) == 1
    assert sorted(p.name for p in (hub.repository / "data").iterdir()) == shards


def test_prepare_command_pushes_once_the_dataset_is_complete(segments, tiny_dpt, tmp_path, capsys):
    root, output, _ = segments
    hub = LocalDatasetHub(tmp_path / "repo")
    argv = [*segment_options(root), "--output_dir", str(output), "--depth_model", str(tiny_dpt), *ENGINE]
    assert main([*argv, "--push_to_hub", "me/epic-depth"], api=hub) == 0  # resumed: nothing to redo, then pushed
    last = capsys.readouterr().out.strip().splitlines()
    assert "0 videos done" in last[0] and "0 left out by the source reader" in last[1]
    assert last[-1].startswith("pushed to me/epic-depth: ") and (hub.repository / "README.md").is_file()

    class Offline(LocalDatasetHub):
        def create_repo(self, repo_id, **kwargs):
            raise ConnectionError("no route to huggingface.co\nmore detail")

    assert main([*argv, "--push_to_hub", "me/epic-depth"], api=Offline(tmp_path / "r")) == 1
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "error: the push to me/epic-depth stopped (ConnectionError: no route to huggingface.co); the dataset is "
        f"complete in {output}: run the same command again to resume the upload"
    )


def test_push_refused_without_a_licence_or_where_forbidden(videofolder, tiny_dpt, tmp_path):
    from modeling_dear.data.sources import SourceInputError
    from modeling_dear.hub.dataset_push import push_dataset_to_hub

    root, output, _ = videofolder
    code = main(["--source", str(root), "--output_dir", str(tmp_path / "o"), "--push_to_hub", "me/x"])
    assert code == 2 and not (tmp_path / "o").exists()
    # a source whose licence forbids redistribution: its card says so, and the push reads it there
    from modeling_dear.data.prepare import prepare_dataset
    from modeling_dear.data.sources.videofolder import read_videofolder

    source = read_videofolder(root)
    source.splits = {"train": source.splits["train"][:2]}
    source.license, source.redistribution_forbidden = "other", "the owners allow research use only"
    prepare_dataset(source, tmp_path / "closed", str(tiny_dpt), shard_size=2, num_workers=0, progress=False)
    with pytest.raises(SourceInputError, match="not uploaded to me/x: the owners allow research use only"):
        push_dataset_to_hub(tmp_path / "closed", "me/x", api=LocalDatasetHub(tmp_path / "r"))
    write(tmp_path / "ssv2" / "prepare_ssv2_report.json", "{}")
    with pytest.raises(SourceInputError, match="not uploaded to me/x: Something-Something V2's licence"):
        push_dataset_to_hub(tmp_path / "ssv2", "me/x", api=LocalDatasetHub(tmp_path / "r"))
