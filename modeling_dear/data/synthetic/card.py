"""The dataset card (`README.md`) of a generated synthetic dataset, and `generation.json` beside it: what the
classes are, why three pairs are ambiguous from RGB alone, the columns, and the command that re-creates it."""

from __future__ import annotations

import json
from pathlib import Path

from ...dataset_schema import COLUMNS
from .classes import DEPTH_SENSITIVE_CLASSES, DEPTH_SENSITIVE_PAIRS, FLIP_PAIRS, SYNTHETIC_CLASSES
from .clips import DEPTH_MODEL, RGB_CODEC, RGB_CODEC_OPTIONS
from .spec import SyntheticSpec


def dataset_card(spec: SyntheticSpec, sizes: dict[str, int] | None = None):
    """A `huggingface_hub.DatasetCard` describing the dataset of `spec` (`sizes`: rows per split)."""
    from huggingface_hub import DatasetCard, DatasetCardData

    params = spec.to_dict()
    total = sum(sizes.values()) if sizes else sum(params["num_per_class"].values()) * len(SYNTHETIC_CLASSES)
    data = DatasetCardData(
        language="en",
        license="apache-2.0",
        pretty_name="DEAR synthetic RGB-D actions",
        task_categories=["video-classification"],
        size_categories="n<1K" if total < 1000 else "1K<n<10K" if total < 10_000 else "10K<n<100K",
        source_datasets=["original"],
        annotations_creators=["machine-generated"],
        tags=["synthetic", "depth", "rgb-d", "action-recognition", "something-something-v2"],
        class_names=list(SYNTHETIC_CLASSES),
        depth_sensitive_pairs=[list(p) for p in DEPTH_SENSITIVE_PAIRS],
        flip_pairs=[list(p) for p in FLIP_PAIRS],
        generation=params,
    )
    rows = "\n".join(
        f"| {i} | {name} | {'**depth only**' if name in DEPTH_SENSITIVE_CLASSES else 'RGB'} |"
        for i, name in enumerate(SYNTHETIC_CLASSES)
    )
    counts = params["num_per_class"]
    split_lines = "\n".join(f"- `{k}`: {v} clips" for k, v in (sizes or {}).items())
    command = (
        f"python -m modeling_dear.data.synthetic --output DIR --seed {params['seed']} "
        f"--train-per-class {counts['train']} --validation-per-class {counts['validation']} "
        f"--test-per-class {counts['test']} --height {params['height']} --width {params['width']} "
        f"--fps {params['fps']:g} --min-frames {params['min_frames']} --max-frames {params['max_frames']}"
        + (" --label-test-split" if params["label_test_split"] else "")
    )
    test_labels = (
        "Here the test split keeps its labels (generated with `--label-test-split`)."
        if params["label_test_split"]
        else "The test split is unlabelled like SSv2's: label -1, empty template and placeholders."
    )
    body = f"""
# DEAR synthetic RGB-D actions

Small rendered clips in the layout of the prepared Something-Something V2 dataset of the `modeling_dear`
package (columns {", ".join(f"`{c}`" for c in COLUMNS)}), with the exact depth of every pixel in place of
a depth estimate (`depth_model = "{DEPTH_MODEL}"`). They exist to check, in minutes on a CPU, that a model
given depth beats the same model without it where, and only where, the RGB frames cannot tell the classes
apart.

## Classes

| id | template | separable from |
|---|---|---|
{rows}

Three pairs are **ambiguous from RGB alone**: {"; ".join(" / ".join(p) for p in DEPTH_SENSITIVE_PAIRS)}.
For each pair, a scene is drawn once in picture terms (where the object is on screen, how large it looks,
how it moves, colours, textures, camera, light) and then placed in depth according to the class, with the
object scaled about the camera centre so that every pixel sees the same surface point. With the same seed
the two classes give the same RGB frames, pixel for pixel, and different depth:

- *towards / away from the camera*: the object grows with its distance, so its picture never changes size
  while its depth falls or rises;
- *holding in front of / behind something*: the held object never overlaps the box on screen, so no
  occlusion tells which is nearer;
- *putting into / behind something*: the bin's rim is above the camera's eye height, so its inside is never
  visible; the object vanishes behind the same front wall either way.

Nothing else betrays depth in the pictures: no shadows, no camera translation (the camera only shakes in
rotation, so there is no motion parallax), no fog. The other six classes are separable from RGB; the two
pushing classes are a flip pair (their names differ only by left/right and the scenes are mirror images).

Checked by `tests/test_synthetic_data.py`: the RGB videos of a pair are byte-identical for one seed, and a
tiny 3-D CNN, cross-validated within each pair on independently drawn clips, stays at chance on RGB
(0.41-0.58) while it reaches 0.94-1.0 on depth; on the pushing flip pair it reaches about 0.9 from RGB.

## Columns

- `video`: WebM/VP9 ({RGB_CODEC}, options {RGB_CODEC_OPTIONS}), {params["height"]}x{params["width"]},
  {params["fps"]:g} fps, {params["min_frames"]}-{params["max_frames"]} frames per clip.
- `depth`: frame-aligned grey H.264 video whose luma is the inverse depth (larger = nearer), min-max
  normalised to 0..255 over the whole clip, stored losslessly (`modeling_dear.video_io.encode_depth_video`).
- `label`, `template` (SSv2 style, `[something]` placeholders), `placeholders` (object names, e.g.
  "red cube"), `num_frames`, `fps`, `height`, `width`, `depth_model`.
- {test_labels}

## Generation

Seed {params["seed"]}, generator version {params["generator_version"]}, clips per class: train
{counts["train"]}, validation {counts["validation"]}, test {counts["test"]}.

{split_lines}

Re-create with:

```
{command}
```

Clip `i` of class `c` in split `s` is drawn from the seed sequence (seed, s, c, i) and is the same whatever
the number of processes or the size of the other splits.
"""
    return DatasetCard(f"---\n{data.to_yaml()}\n---\n{body}")


def write_card(directory: str | Path, spec: SyntheticSpec, sizes: dict[str, int]) -> None:
    """`README.md` (the card) and `generation.json` (`spec.to_dict()`) in `directory`."""
    dataset_card(spec, sizes).save(str(Path(directory) / "README.md"))
    (Path(directory) / "generation.json").write_text(json.dumps(spec.to_dict(), indent=2, sort_keys=True) + "\n")
