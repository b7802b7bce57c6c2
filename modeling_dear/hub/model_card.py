# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Hub model cards for trained DEAR models, rendered from `hub_cards/dear_model_card.md`; the paper's row for
the model's encoders comes from the presets (`configuration_dear.paper_results`)."""

from __future__ import annotations

from pathlib import Path

from ..configuration_dear import DEPTH, RGB, DearConfig, input_name, paper_results
from .cards import render_model_card


def table_1_row(config: DearConfig) -> tuple[str, str, str, str]:
    row = paper_results().get(frozenset(config.encoders))
    if row is not None and (config.fusion_streams is None or len(config.encoders) == 1):
        return row["variant"], row["encoders"], row["fusion"], row["ssv2_top1"]
    streams = ", ".join(config.logit_sources)
    return ("custom", ", ".join(config.encoders), streams or "none", "not in the paper")


# What `license="other"` refers to: Something-Something V2's terms (ModelCardData needs a name and a link for it).
SSV2_LICENSE_NAME = "something-something-v2"
SSV2_LICENSE_LINK = "https://developer.qualcomm.com/software/ai-datasets/something-something"


def _is_hub_id(source: str | None) -> bool:
    return bool(source) and not Path(source).expanduser().exists() and source.count("/") == 1


def modality_text(config: DearConfig) -> str:
    """One line per modality: its model input and the encoders that read it."""
    lines = []
    for modality in config.modalities:
        readers = ", ".join(f"`{name}`" for name in config.encoders_reading(modality))
        lines.append(f"- {modality}: `{input_name(modality)}`, read by {readers}")
    return "\n".join(lines)


def usage_inputs(config: DearConfig) -> list[str]:
    """The modalities besides RGB whose videos the usage code passes (all but depth that the model estimates)."""
    return [m for m in config.modalities if m != RGB and not (m == DEPTH and config.estimates_depth)]


def backbone_text(config: DearConfig, backbone_source: str | None) -> tuple[str, str]:
    """(description, limitation) of the frozen backbone this model actually holds."""
    if not config.uses_side4video:
        return "There is no CLIP backbone (no Side4Video encoder).", ""
    clip = config.clip_config
    shape = f"width {clip.hidden_size}, {clip.num_hidden_layers} blocks, patch {clip.patch_size}"
    if not backbone_source:
        return (
            f"The Side4Video encoders are trainable side networks over one frozen ViT ({shape}) with RANDOM weights: "
            "no pretrained backbone was loaded.",
            "The frozen backbone has random weights: this model demonstrates the pipeline, it is not a video model.",
        )
    return (
        f"The Side4Video encoders are trainable side networks over one frozen CLIP ViT ({shape}), loaded from "
        f"`{backbone_source}`.",
        f"The frozen backbone (`{backbone_source}`) brings its pretraining data's biases.",
    )


def build_model_card(
    config: DearConfig,
    repo_id: str,
    metrics: dict[str, float] | None = None,
    eval_dataset: str = "Something-Something V2",
    eval_dataset_id: str = "something-something-v2",
    eval_split: str = "validation",
    eval_views: str = "2 clips x 3 crops",
    depth_description: str = "Depth was estimated for every frame with MiDaS DPT-Hybrid (`Intel/dpt-hybrid-midas`).",
    training_description: str = "",
    license: str = "apache-2.0",
    datasets: list[str] | None = None,
    extra_limitations: str = "",
    backbone_source: str | None = None,
    base_model: str | None = None,
    usage_source: str | None = None,
    usage_note: str = "",
):
    """A `huggingface_hub.ModelCard` with metadata (library, pipeline tag, datasets, licence, model-index).

    `backbone_source`: where the frozen CLIP weights came from (None: they are random); `base_model`: the model
    this one was trained from (a Hub id; local paths are left out of the metadata); `usage_source`: what the usage
    code loads (default `repo_id`; e.g. the evaluated model when the run saved no weights of its own).
    """
    from huggingface_hub import EvalResult, ModelCardData

    variant_name, encoders, streams, paper = table_1_row(config)
    metrics = dict(metrics or {})
    eval_results = []
    headline = [("top1", "accuracy", "Top-1 accuracy"), ("top5", "top_5_accuracy", "Top-5 accuracy")]
    # with label sets (config.label_sets): each set's and the actions' top-1 / top-5 ("verb_top1", "action_top5", ...)
    for prefix in [*(config.label_sets or {}), *(["action"] if config.predicts_actions else [])]:
        headline += [
            (f"{prefix}_top1", f"{prefix}_accuracy", f"{prefix.capitalize()} top-1 accuracy"),
            (f"{prefix}_top5", f"{prefix}_top_5_accuracy", f"{prefix.capitalize()} top-5 accuracy"),
        ]
    for key, metric_type, metric_name in headline:
        if key in metrics:
            eval_results.append(
                EvalResult(
                    task_type="video-classification",
                    task_name="Video Classification",
                    dataset_type=eval_dataset_id,
                    dataset_name=eval_dataset,
                    dataset_split=eval_split,
                    metric_type=metric_type,
                    metric_name=metric_name,
                    metric_value=round(float(metrics[key]), 4),
                )
            )
    if base_model is None and backbone_source and _is_hub_id(backbone_source):
        base_model = backbone_source
    license_fields = (
        {"license_name": SSV2_LICENSE_NAME, "license_link": SSV2_LICENSE_LINK} if license == "other" else {}
    )
    card_data = ModelCardData(
        library_name="transformers",
        pipeline_tag="video-classification",
        license=license,
        datasets=datasets or [eval_dataset_id],
        tags=[
            "video-classification",
            "action-recognition",
            *[m for m in config.modalities if m != RGB],
            "dear",
            *[
                t
                for t in ("side4video", "videomamba")
                if any(config.encoder_spec(n)["type"] == t for n in config.encoders)
            ],
        ],
        model_name=repo_id.split("/")[-1],
        eval_results=eval_results or None,
        base_model=base_model if _is_hub_id(base_model) else None,
        **license_fields,
    )
    backbone_description, backbone_limitation = backbone_text(config, backbone_source)
    fused_modalities = list(dict.fromkeys(config.encoder_spec(stream)["modality"] for stream in config.active_streams))
    return render_model_card(
        card_data,
        "dear_model_card.md",
        model_name=repo_id.split("/")[-1],
        repo_id=repo_id,
        usage_source=usage_source or repo_id,
        usage_note=usage_note + ("\n\n" if usage_note else ""),
        needs_depth_video=config.needs_depth and not config.estimates_depth,
        usage_inputs=usage_inputs(config),
        modalities=modality_text(config),
        # the paper's RGB-and-depth wording, unless the model reads another modality
        other_modalities=[m for m in config.modalities if m not in (RGB, DEPTH)],
        has_depth=config.needs_depth,
        modalities_list=", ".join(config.modalities),
        fused_modalities=", ".join(fused_modalities),
        variant_name=variant_name,
        variant_description=f"encoders {encoders}; streams {streams}.",
        table_row=" | ".join((variant_name, encoders, streams, paper)),
        num_frames=config.num_frames,
        image_size=config.image_size,
        # "97 verb and 300 noun" classes for a model with label sets
        num_labels=" and ".join(f"{size} {name}" for name, size in config.label_set_sizes.items())
        if config.label_sets
        else config.num_labels,
        encoders=", ".join(config.encoders),
        backbone_description=backbone_description,
        backbone_limitation=backbone_limitation,
        ssv2="something-something-v2" in (datasets or [eval_dataset_id]),
        metrics={key: f"{value:.4f}" if isinstance(value, float) else value for key, value in metrics.items()},
        eval_dataset=eval_dataset,
        eval_split=eval_split,
        eval_views=eval_views,
        depth_description=depth_description,
        depth_colormap=config.depth_colormap,
        training_description=training_description or "See the training arguments saved with the checkpoint.",
        extra_limitations=extra_limitations,
    )
