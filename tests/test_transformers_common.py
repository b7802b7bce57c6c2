# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""transformers' own common model and config tests (`ModelTesterMixin`, `ConfigTester`) run against DEAR.

They ship in the transformers source distribution, not the wheel: the first run downloads the sdist of the
installed version with pip (network to PyPI) and keeps `tests/test_modeling_common.py` and
`tests/test_configuration_common.py` in a cache folder (`DEAR_TRANSFORMERS_TESTS_CACHE`, default
`~/.cache/dear/transformers-tests-<version>`); the module is skipped, saying why, when that fails.

The sdist leaves out three helper modules those files import; they are stood in for here:
`exporters/test_export.ExportTesterMixin` by `DearExportTests` below (torch.export of the model, its outputs
against eager), `generation/test_utils.GenerationTesterMixin` (DEAR does not generate) as an empty mixin, and
`utils/test_configuration_utils.config_common_kwargs` (only read by a check that composite configs skip).
Every test that cannot apply to DEAR is skipped below with its reason.

In CI (`CI=true`) the module must run: failing to fetch the transformers source fails the run instead of
skipping it. Offline local runs skip the module, saying why.
"""

import importlib
import os
import subprocess
import sys
import tarfile
import tempfile
import unittest
from pathlib import Path

import pytest
import transformers

PACKAGE = "transformers_common_tests"
KEPT = ("test_modeling_common.py", "test_configuration_common.py")
STAND_INS = {
    "__init__.py": "",
    "exporters/__init__.py": "",
    # the export tests of the mixin are DearExportTests, mixed into DearModelTest below
    "exporters/test_export.py": "class ExportTesterMixin:\n    pass\n",
    "generation/__init__.py": "",
    "generation/test_utils.py": "class GenerationTesterMixin:\n    pass\n",
    "utils/__init__.py": "",
    "utils/test_configuration_utils.py": "config_common_kwargs = {'return_dict': False, 'output_hidden_states': True}\n",
}


def _cache_dir() -> Path:
    default = Path.home() / ".cache" / "dear" / f"transformers-tests-{transformers.__version__}"
    return Path(os.environ.get("DEAR_TRANSFORMERS_TESTS_CACHE", default))


def _fetch_common_tests() -> Path:
    root = _cache_dir()
    package = root / PACKAGE
    if all((package / name).is_file() for name in KEPT):
        return root
    with tempfile.TemporaryDirectory() as download:
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-binary",
            ":all:",
            "--no-deps",
            "--quiet",
            f"transformers=={transformers.__version__}",
            "-d",
            download,
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=600)
        archives = list(Path(download).glob("transformers-*.tar.gz"))
        if result.returncode != 0 or not archives:
            raise RuntimeError(
                f"pip download of the transformers {transformers.__version__} sdist failed: {result.stderr.strip()[-300:]}"
            )
        package.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archives[0]) as archive:
            for name in KEPT:
                member = archive.getmember(f"transformers-{transformers.__version__}/tests/{name}")
                (package / name).write_bytes(archive.extractfile(member).read())
    for name, text in STAND_INS.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(text)
    return root


try:
    import parameterized  # noqa: F401  (test_modeling_common needs it)

    sys.path.insert(0, str(_fetch_common_tests()))
    common = importlib.import_module(f"{PACKAGE}.test_modeling_common")
    ConfigTester = importlib.import_module(f"{PACKAGE}.test_configuration_common").ConfigTester
except (ImportError, OSError, RuntimeError, subprocess.TimeoutExpired, KeyError) as error:
    reason = f"transformers' common tests unavailable ({type(error).__name__}: {error})"
    if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
        # a CI run without them would be green without having run them
        pytest.fail(f"{reason}; CI must run them (network to PyPI, or a filled DEAR_TRANSFORMERS_TESTS_CACHE)", False)
    pytest.skip(reason, allow_module_level=True)

import torch  # noqa: E402

from modeling_dear import DearConfig, DearForVideoClassification, DearModel  # noqa: E402

ModelTesterMixin, floats_tensor = common.ModelTesterMixin, common.floats_tensor


class DearModelTester:
    """The full tiny DEAR (RGB and depth Side4Video over one 2-layer CLIP, a VideoMamba, two fusion streams) on 4 frames
    of 32x32."""

    def __init__(self, parent, batch_size=2, num_frames=4, image_size=32, num_labels=3):
        self.parent, self.batch_size, self.num_frames, self.image_size = parent, batch_size, num_frames, image_size
        self.num_labels = num_labels
        self.is_training = True
        config = self.get_config()
        self.num_hidden_layers = config.clip_config.num_hidden_layers
        self.hidden_size = config.side_hidden_size
        self.num_attention_heads = config.side_hidden_size // config.side_head_dim
        self.seq_length = num_frames * (image_size // config.clip_config.patch_size) ** 2

    def get_config(self):
        return DearConfig.from_preset(
            "tiny",
            num_frames=self.num_frames,
            image_size=self.image_size,
            clip_config={
                "hidden_size": 48,
                "intermediate_size": 96,
                "num_hidden_layers": 2,
                "num_attention_heads": 3,
                "patch_size": 8,
            },
            id2label={i: f"class {i}" for i in range(self.num_labels)},
        )

    def prepare_config_and_inputs_for_common(self):
        shape = [self.batch_size, self.num_frames, 3, self.image_size, self.image_size]
        return self.get_config(), {"pixel_values": floats_tensor(shape), "depth_pixel_values": floats_tensor(shape)}


# one-line reasons, by test name
NOT_APPLICABLE = {
    # no token embeddings or text side
    "test_resize_tokens_embeddings": "DEAR has no token embeddings",
    "test_resize_embeddings_untied": "DEAR has no token embeddings",
    "test_tie_model_weights": "DEAR ties no weights",
    "test_model_get_set_embeddings": (
        "get_input_embeddings is CLIP's patch embedding (tests/test_model_contract.py); this test sets a token "
        "nn.Embedding in its place, which frames cannot go through"
    ),
    "test_inputs_embeds": "video frames, not token ids: no inputs_embeds",
    "test_inputs_embeds_matches_input_ids": "video frames, not token ids: no inputs_embeds",
    # outputs shaped per encoder
    "test_sdpa_can_dispatch_non_composite_models": (
        "DEAR is composite (CLIP inside), and transformers' composite dispatch test needs a language sub-model, so it "
        "skips too: tests/test_model_contract.py::test_eager_and_sdpa_reach_every_attention_and_agree checks that "
        "SDPA and eager reach every attention (CLIP, side networks, fusion) and agree"
    ),
    "test_hidden_states_output": "hidden_states mixes encoders of different token counts and widths; tests/test_model_contract.py checks them",
    "test_attention_outputs": "attentions mixes CLIP, side-network and fusion maps of different shapes; tests/test_model_contract.py checks them",
    "test_retain_grad_hidden_states_attentions": "CLIP runs under no_grad (frozen): its hidden states and attentions carry no gradient",
    # frozen backbone
    "test_enable_input_require_grads": "no input embeddings; the inputs are frames",
    "test_enable_input_require_grads_with_gradient_checkpointing": "no input embeddings; the inputs are frames",
}


class DearExportTests:
    """What transformers' `ExportTesterMixin` (not in the sdist) checks, for DEAR: `torch.export` captures the whole
    model in one graph, and the exported program gives the eager model's outputs."""

    @pytest.mark.slow  # tracing the whole model takes ~15 s on 2 cores
    def test_torch_export(self):
        config, inputs = self.model_tester.prepare_config_and_inputs_for_common()
        torch.manual_seed(0)
        model = DearForVideoClassification(config).eval()
        with torch.no_grad():
            exported = torch.export.export(model, args=(), kwargs=inputs, strict=False)
            expected, actual = model(**inputs), exported.module()(**inputs)
        torch.testing.assert_close(actual.logits, expected.logits)
        torch.testing.assert_close(actual.stream_logits, expected.stream_logits)


class DearModelTest(DearExportTests, ModelTesterMixin, unittest.TestCase):
    all_model_classes = (DearModel, DearForVideoClassification)
    pipeline_model_mapping = {}
    # passed along with the main input (pixel_values) by the tests that build their own inputs
    additional_model_inputs = ["depth_pixel_values"]
    base_model_class = DearModel
    test_resize_embeddings = False
    has_attentions = True
    _is_composite = True

    def setUp(self):
        self.model_tester = DearModelTester(self)
        self.config_tester = ConfigTester(self, config_class=DearConfig, has_text_modality=False)

    def _prepare_for_class(self, inputs_dict, model_class, return_labels=False):
        inputs_dict = super()._prepare_for_class(inputs_dict, model_class, return_labels=False)
        if return_labels and model_class is DearForVideoClassification:
            # the same labels on every call: some tests compare two calls
            inputs_dict["labels"] = torch.arange(self.model_tester.batch_size) % self.model_tester.num_labels
        return inputs_dict

    def test_config(self):
        self.config_tester.run_common_tests()

    # the base model has no loss to train on (transformers skips its own base models by name, which DEAR is not)
    def test_training(self):
        self.all_model_classes = (DearForVideoClassification,)
        super().test_training()

    def check_training_gradient_checkpointing(self, gradient_checkpointing_kwargs=None):
        self.all_model_classes = (DearForVideoClassification,)
        super().check_training_gradient_checkpointing(gradient_checkpointing_kwargs)


for _name, _reason in NOT_APPLICABLE.items():
    if hasattr(DearModelTest, _name):
        setattr(DearModelTest, _name, unittest.skip(_reason)(getattr(DearModelTest, _name)))
