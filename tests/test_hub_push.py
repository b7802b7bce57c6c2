# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""What the training recipe (`dear-train`, `examples/run_ssv2.py`) publishes: every revision it pushes to the Hub
during training is a whole, loadable model, and the model card it writes is true for the run and its usage code runs.

The Hub is replaced by a local folder: each `upload_folder` call is a commit whose resulting repository state is
kept as a folder of its own (no network).
"""

import concurrent.futures
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from conftest import CLASSES, arguments, run_without_package, tiny_config_file
from huggingface_hub.utils import filter_repo_objects
from safetensors import safe_open
from transformers import TrainerCallback

from modeling_dear import DearForVideoClassification
from modeling_dear.training.recipe import run

pytestmark = pytest.mark.usefixtures("one_torch_thread")


class LocalHub:
    """The two `HfApi` methods the Trainer calls, writing into `root` instead of a Hub repository."""

    def __init__(self, root: Path):
        self.root, self.repository, self.commits = root, root / "repository", []

    def create_repo(self, repo_id, **kwargs):
        return SimpleNamespace(repo_id=f"local-user/{repo_id}")

    def upload_folder(
        self,
        repo_id,
        folder_path,
        commit_message=None,
        path_in_repo=None,
        allow_patterns=None,
        ignore_patterns=None,
        run_as_future=False,
        **kwargs,
    ):
        folder = Path(folder_path)
        files = sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())
        target = self.repository / (path_in_repo or "")
        for name in filter_repo_objects(files, allow_patterns=allow_patterns, ignore_patterns=ignore_patterns):
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(folder / name, target / name)
        snapshot = self.root / f"revision-{len(self.commits)}"
        shutil.copytree(self.repository, snapshot)
        self.commits.append({"message": commit_message, "path_in_repo": path_in_repo, "snapshot": snapshot})
        if not run_as_future:
            return None
        done = concurrent.futures.Future()
        done.set_result(None)
        return done


class LogitsAtEachSave(TrainerCallback):
    """The live model's logits on fixed inputs whenever the Trainer saves (and so pushes) a checkpoint."""

    def __init__(self, inputs):
        self.inputs, self.logits = inputs, []

    def on_save(self, args, state, control, model=None, **kwargs):
        was_training = model.training
        model.eval()
        with torch.no_grad():
            self.logits.append(model(**self.inputs).logits)
        model.train(was_training)


@pytest.mark.slow  # a 12-step run with 4 pushes and a subprocess (~30 s on 2 busy cores)
def test_every_pushed_revision_is_the_model_at_that_step(colour_dataset, tmp_path, monkeypatch):  # noqa: F811
    hub = LocalHub(tmp_path / "hub")
    monkeypatch.setattr("transformers.trainer.hf_api", lambda: hub)
    generator = torch.Generator().manual_seed(3)
    inputs = {
        "pixel_values": torch.randn(2, 4, 3, 32, 32, generator=generator),
        "depth_pixel_values": torch.randn(2, 4, 3, 32, 32, generator=generator),
    }
    recorder = LogitsAtEachSave(inputs)
    # the recipe's save strategy (every epoch, last 2 checkpoints kept), 2 epochs of 6 steps
    run(
        arguments(
            colour_dataset,
            tmp_path / "run",
            tiny_config_file(tmp_path),
            "--do_train",
            "--num_train_epochs",
            "2",
            "--save_strategy",
            "epoch",
            "--eval_strategy",
            "no",
            "--repeated_augmentation",
            "1",
            "--push_to_hub",
            "true",
            "--hub_model_id",
            "dear-test",
        ),
        callbacks=[recorder],
    )
    final = DearForVideoClassification.from_pretrained(tmp_path / "run").eval()
    with torch.no_grad():
        recorder.logits.append(final(**inputs).logits)

    pushes = [commit for commit in hub.commits if commit["path_in_repo"] is None]
    assert [commit["message"] for commit in pushes] == [
        "Training in progress, epoch 1",
        "Training in progress, epoch 2",
        "Model save",
        "End of training",
    ]
    # `trainer.save_model()` pushes too ("Model save"), and so does the end of the run: both the final model
    assert len(recorder.logits) == 3
    recorder.logits.append(recorder.logits[-1])
    assert not torch.allclose(recorder.logits[0], recorder.logits[1])
    torch.save({"inputs": inputs, "expected": recorder.logits}, tmp_path / "io.pt")

    backbone_keys = [k for k in final.state_dict() if k.startswith("backbone.")]
    for commit, expected in zip(pushes, recorder.logits, strict=True):
        snapshot = commit["snapshot"]
        assert not (snapshot / "_frozen_weights.json").exists()
        assert {"modeling_dear.py", "configuration_dear.py", "config.json"} <= {p.name for p in snapshot.iterdir()}
        with safe_open(str(snapshot / "model.safetensors"), "pt") as weights:
            assert set(backbone_keys) <= set(weights.keys()), commit["message"]
        loaded = DearForVideoClassification.from_pretrained(snapshot).eval()
        with torch.no_grad():
            torch.testing.assert_close(loaded(**inputs).logits, expected, rtol=1e-5, atol=1e-6, msg=commit["message"])

    # the same revisions, with only transformers and the revision's own code
    result = run_without_package(
        f"""
        import torch
        from transformers import AutoModelForVideoClassification

        data = torch.load({str(tmp_path / "io.pt")!r}, weights_only=True)
        for folder, expected in zip({[str(c["snapshot"]) for c in pushes]!r}, data["expected"]):
            model = AutoModelForVideoClassification.from_pretrained(folder, trust_remote_code=True).eval()
            assert type(model).__module__.startswith("transformers_modules"), type(model).__module__
            with torch.no_grad():
                torch.testing.assert_close(model(**data["inputs"]).logits, expected, rtol=1e-5, atol=1e-6, msg=folder)
        print("all revisions OK")
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "all revisions OK" in result.stdout
    assert not (tmp_path / "run" / "_hub_push").exists()  # the whole-model copies are gone after the final push


# ----------------------------------------------------------------------------------------------------------------------
# Model cards: what they say is what the run did, and their usage code runs


def card_snippet(readme: Path) -> str:
    text = readme.read_text()
    start = text.index("```python\n") + len("```python\n")
    return text[start : text.index("```", start)]


def run_card_snippet(readme: Path, cwd: Path, with_depth: bool) -> str:
    """Executes the card's Python block in a process that cannot import this package, next to local videos."""
    from modeling_dear.testing_utils import smooth_moving_frames
    from modeling_dear.video_io import encode_depth_video, encode_video

    frames = smooth_moving_frames(12, 40, 48)
    (cwd / "video.mp4").write_bytes(encode_video(frames, codec="libx264"))
    if with_depth:
        (cwd / "video_depth.mp4").write_bytes(encode_depth_video(frames[..., 0]))
    result = run_without_package(card_snippet(readme), cwd)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


@pytest.mark.slow  # two short runs and two subprocesses (~25 s on 2 busy cores)
def test_cards_of_a_trained_and_an_evaluation_only_folder_are_true_and_their_code_runs(colour_dataset, tmp_path):  # noqa: F811
    from huggingface_hub import ModelCard

    config_file = tiny_config_file(tmp_path, "tiny-dear-rgb-depth")
    common = [
        "--eval_strategy",
        "no",
        "--save_strategy",
        "no",
        "--repeated_augmentation",
        "1",
        "--max_eval_samples",
        "3",
    ]
    run(
        arguments(colour_dataset, tmp_path / "run", config_file, "--do_train", "--do_eval", "--max_steps", "2", *common)
    )
    card = ModelCard.load(tmp_path / "run" / "README.md")
    assert "SchedulerType" not in card.text and "then cosine" in card.text  # the scheduler by name, not an enum repr
    assert "RANDOM weights" in card.text and "CLIP ViT-B/16" not in card.text
    assert card.data.base_model is None  # nothing pretrained was loaded
    # a dataset folder of other classes than SSv2's is named by its folder, its licence unknown (not SSv2's)
    assert card.data.license == "unknown" and card.data.datasets == [colour_dataset.name]
    assert "Something-Something" not in card.text and "frames sampled by TSN segments" in card.text
    assert 'depth="video_depth.mp4"' in card_snippet(tmp_path / "run" / "README.md")
    # repo_id is the output folder's name, so from the folder above, the card's code loads this run's model
    output = run_card_snippet(tmp_path / "run" / "README.md", tmp_path, with_depth=True)
    assert output.splitlines()[0] in CLASSES

    # an evaluation-only run saves no weights: its card's code loads the model it evaluated
    evaluated = tmp_path / "evaluated"
    run(
        arguments(
            colour_dataset, evaluated, config_file, "--model_name_or_path", str(tmp_path / "run"), "--do_eval", *common
        )
    )
    assert not (evaluated / "model.safetensors").exists()
    card = ModelCard.load(evaluated / "README.md")
    assert f'from_pretrained("{tmp_path / "run"}"' in card.text and "trained nothing" in card.text
    (tmp_path / "elsewhere").mkdir()
    assert run_card_snippet(evaluated / "README.md", tmp_path / "elsewhere", with_depth=True).splitlines()[0] in CLASSES


def test_card_metadata_names_the_pretrained_backbone_and_a_valid_licence(tmp_path):
    from huggingface_hub import ModelCard

    from modeling_dear import DearConfig
    from modeling_dear.hub.model_card import build_model_card

    card = build_model_card(
        DearConfig.from_preset("dear"),
        repo_id="someone/dear-ssv2",
        license="other",
        backbone_source="openai/clip-vit-base-patch16",
    )
    card.save(tmp_path / "README.md")
    data = ModelCard.load(tmp_path / "README.md").data
    assert data.base_model == "openai/clip-vit-base-patch16"
    assert data.license == "other" and data.license_name and data.license_link.startswith("https://")
    assert "loaded from `openai/clip-vit-base-patch16`" in card.text
    # a model that bundles a depth estimator, or has no depth encoder, is called without a depth video
    rgb_card = build_model_card(DearConfig.from_preset("s4v-rgb"), repo_id="x/s4v", backbone_source=str(tmp_path))
    assert "depth=" not in card_snippet_text(rgb_card.text) and rgb_card.data.base_model is None  # a local path


def card_snippet_text(text: str) -> str:
    start = text.index("```python\n")
    return text[start : text.index("```", start + 10)]
