# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent

setup(
    name="dear-video",
    version="0.1.0",
    description="DEAR: depth-enhanced action recognition (RGB + estimated depth) as a transformers model",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10",
    # The named presets live at the top level in configuration/ (where users look for them); they are
    # installed inside the package so that `DearConfig.from_preset` finds them after a non-editable install.
    packages=find_packages(include=["modeling_dear", "modeling_dear.*"])
    + ["modeling_dear.configuration", "modeling_dear.hub_cards"],
    package_dir={
        "modeling_dear": "modeling_dear",
        "modeling_dear.configuration": "configuration",
        "modeling_dear.hub_cards": "hub_cards",
    },
    package_data={
        "modeling_dear.data": ["*.csv"],
        "modeling_dear.configuration": ["presets/*.json", "accelerate/*.yaml", "deepspeed/*.json"],
        "modeling_dear.hub_cards": ["*.md"],
    },
    install_requires=[
        "torch>=2.13",
        "transformers>=5.21",
        "datasets>=4.0",
        "accelerate>=1.1",
        "evaluate>=0.4",
        "safetensors>=0.8",
        "huggingface_hub>=1.31",
        "numpy>=2.0",
        "pillow>=10.0",
        "matplotlib>=3.9",
        "tqdm>=4.66.3",
        "jinja2>=3.0",
    ],
    extras_require={
        "video": ["decord>=0.6", "av>=12"],
        # GPU kernels for the VideoMamba scan; never needed (and not installable) on CPU machines.
        "cuda": ["mamba-ssm>=2.0", "causal-conv1d>=1.2"],
        # parameterized: imported by transformers' common model tests (tests/test_transformers_common.py);
        # ruff: lint and format check in CI (pinned in constraints.txt: formatting may change between versions)
        # peft: a LoRA adapter on the frozen CLIP (tests/test_model_contract.py)
        "test": ["pytest>=7", "av>=12", "decord>=0.6", "parameterized>=0.9", "ruff>=0.17", "peft>=0.17"],
        # demo/app.py (Gradio), and Playwright to drive the system's Chromium in its browser test
        # (never `playwright install`: tests/test_demo_app.py uses /usr/bin/chromium)
        "demo": ["gradio>=5.0", "playwright>=1.40"],
    },
    entry_points={
        "console_scripts": [
            "dear-train=modeling_dear.cli.train:main",
            "dear-predict=modeling_dear.cli.predict:main",
            "dear-prepare-ssv2=modeling_dear.cli.prepare_ssv2:main",
            "dear-prepare=modeling_dear.cli.prepare:main",
        ]
    },
)
