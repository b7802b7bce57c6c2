# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Check that every lower bound in setup.py is a version that installs and works.

For each `name>=floor` in `install_requires` (and the `video` extra), this script builds a throwaway virtual
environment, installs the package (non-editable, as users get it) with every dependency pinned to its floor
(`name==floor`), and runs a smoke test there: import, a tiny forward pass, save and reload with the same logits,
the processor on decoded frames, and the ecosystem pieces the package uses (a `datasets` table with the package's
features, `accelerate` through a Trainer, an `evaluate`-style metric). A floor that fails must be raised in setup.py.

    python scripts/check_dependency_floors.py                 # all floors together, in one environment
    python scripts/check_dependency_floors.py --one-at-a-time # each floor alone, the rest at their newest
    python scripts/check_dependency_floors.py --pin transformers==5.20.0   # try a candidate floor

torch stays the CPU build named in constraints.txt (the registry's other torch wheels are CUDA builds of several
GB), so the torch floor is that version. Needs network access to the package registry (pip) and ~2 GB of disk
per environment; takes a few minutes per environment.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SMOKE_TEST = textwrap.dedent(
    """
    import importlib.metadata as md
    import tempfile

    import numpy as np
    import torch

    import modeling_dear
    from modeling_dear import DearConfig, DearForVideoClassification, DearVideoProcessor

    torch.manual_seed(0)
    model = DearForVideoClassification(DearConfig.from_preset("tiny", id2label={0: "a", 1: "b", 2: "c"})).eval()
    processor = DearVideoProcessor(num_frames=8, size={"shortest_edge": 64}, crop_size={"height": 64, "width": 64})
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (12, 72, 96, 3), dtype=np.uint8)
    inputs = processor(frames, depth=frames[..., 0], return_tensors="pt")
    with torch.no_grad():
        logits = model(**{k: v for k, v in inputs.items() if k.endswith("pixel_values")}).logits
    assert logits.shape == (1, 3), logits.shape
    with tempfile.TemporaryDirectory() as folder:
        model.save_pretrained(folder)
        processor.save_pretrained(folder)
        again = DearForVideoClassification.from_pretrained(folder).eval()
        inputs_again = DearVideoProcessor.from_pretrained(folder)(frames, depth=frames[..., 0], return_tensors="pt")
        with torch.no_grad():
            logits_again = again(**{k: v for k, v in inputs_again.items() if k.endswith("pixel_values")}).logits
    torch.testing.assert_close(logits_again, logits, rtol=0, atol=0)

    # the ecosystem pieces training uses
    import datasets
    from modeling_dear.data.schema import video_features
    table = datasets.Dataset.from_dict(
        {"video_id": ["1"], "video": [b"x"], "depth": [b"y"], "label": [0], "template": ["a"],
         "placeholders": [[]], "num_frames": [1], "fps": [1.0], "height": [1], "width": [1], "depth_model": ["m"]},
        features=video_features(["a", "b", "c"]),
    )
    assert table[0]["label"] == 0
    import accelerate, evaluate, transformers  # noqa: E401
    from transformers import Trainer, TrainingArguments
    with tempfile.TemporaryDirectory() as out:
        Trainer(model=model, args=TrainingArguments(out, use_cpu=True, report_to=[]))
    from modeling_dear.evaluation import load_video_accuracy
    scores = load_video_accuracy().compute(predictions=[[0.9, 0.1], [0.2, 0.8]], references=[0, 1])
    assert scores["top1"] == 1.0, scores
    # Pillow (training's RandAugment, predict's PNG/GIF) and matplotlib (analysis plots)
    from modeling_dear.video_transforms import TrainAugmentation
    augment = TrainAugmentation(resize=(72, 96), crop_size=(64, 64), randaugment_num_ops=4)
    augmented, _, _ = augment(frames[:4], frames[:4, ..., 0], np.random.default_rng(0))
    assert augmented.shape == (4, 64, 64, 3), augmented.shape
    import io
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plt.plot([0, 1], [1, 0])
    plt.savefig(io.BytesIO(), format="png")
    import av
    from modeling_dear.video_io import encode_video, open_video
    clip = open_video(encode_video(frames[:4], codec="libx264"), backend="pyav")
    assert clip.info.num_frames == 4

    names = ("torch", "transformers", "datasets", "accelerate", "evaluate", "safetensors", "huggingface_hub", "numpy",
             "pillow", "matplotlib", "tqdm", "jinja2", "av", "decord")
    print("SMOKE OK", " ".join(f"{n}=={md.version(n)}" for n in names))
    """
)


def floors() -> dict[str, str]:
    """{name: floor} from setup.py's install_requires and the `video` extra."""
    text = (ROOT / "setup.py").read_text(encoding="utf-8")
    sections = [re.search(r"install_requires=\[(.*?)\]", text, re.S).group(1)]
    sections.append(re.search(r'"video":\s*\[(.*?)\]', text, re.S).group(1))
    found = {}
    for section in sections:
        for name, version in re.findall(r'"([A-Za-z0-9_.\-]+)>=([0-9][0-9A-Za-z.]*)"', section):
            found[name] = version
    return found


def torch_pin() -> str:
    match = re.search(r"^torch==(\S+)", (ROOT / "constraints.txt").read_text(), re.M)
    return match.group(1)


def check(pins: dict[str, str], label: str, keep: bool = False) -> bool:
    """Install the package with `pins` (name -> exact version) in a fresh venv and run the smoke test."""
    start = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="dear-floors-"))
    venv = workdir / "venv"
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    constraints = workdir / "pins.txt"
    constraints.write_text("".join(f"{name}=={version}\n" for name, version in pins.items()))
    install = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "-c",
            str(ROOT / "constraints.txt"),
            "-c",
            str(constraints),
            f"{ROOT}[video]",
        ],
        capture_output=True,
        text=True,
    )
    if install.returncode != 0:
        # pip's resolver explanation, without its warnings about local index folders
        lines = [line for line in (install.stdout + install.stderr).splitlines() if not line.startswith("WARNING:")]
        print(f"[{label}] INSTALL FAILED ({time.monotonic() - start:.0f} s):\n" + "\n".join(lines[-40:]), flush=True)
        ok = False
    else:
        smoke = subprocess.run([str(python), "-c", SMOKE_TEST], capture_output=True, text=True, cwd=workdir)
        ok = smoke.returncode == 0 and "SMOKE OK" in smoke.stdout
        detail = smoke.stdout.strip().splitlines()[-1] if ok else smoke.stderr[-2500:]
        print(f"[{label}] {'PASS' if ok else 'SMOKE FAILED'} ({time.monotonic() - start:.0f} s): {detail}", flush=True)
    if not keep:
        subprocess.run(["rm", "-rf", str(workdir)], check=False)
    return ok


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--one-at-a-time", action="store_true", help="each floor alone, the others at their newest")
    parser.add_argument("--pin", action="append", default=[], metavar="NAME==VERSION", help="override a floor")
    parser.add_argument("--keep", action="store_true", help="keep the environments (printed paths) for inspection")
    args = parser.parse_args(argv)

    pins = floors()
    pins["torch"] = torch_pin()
    for item in args.pin:
        name, _, version = item.partition("==")
        pins[name] = version
    print("floors:", ", ".join(f"{n}=={v}" for n, v in pins.items()), flush=True)
    if args.one_at_a_time:
        results = [check({name: version}, f"{name}=={version}", args.keep) for name, version in pins.items()]
    else:
        results = [check(pins, "all floors", args.keep)]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
