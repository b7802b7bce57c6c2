"""Hub model cards for trained DEAR models, rendered from `hub_cards/dear_model_card.md`."""

from __future__ import annotations

from pathlib import Path

from .configuration_dear import DEPTH_SIDE4VIDEO, DEPTH_VIDEOMAMBA, RGB_SIDE4VIDEO, DearConfig

# The rows of the paper's Table 1 (and the poster's depth-only rows), keyed by the set of encoders.
TABLE_1 = {
    frozenset({RGB_SIDE4VIDEO}): ("S4V* (RGB only)", "RGB S4V", "none (S4V's own head)", "70.2"),
    frozenset({RGB_SIDE4VIDEO, DEPTH_VIDEOMAMBA}): ("RGB + Depth(VideoMamba)", "RGB S4V, VideoMamba", "v", "70.0"),
    frozenset({RGB_SIDE4VIDEO, DEPTH_SIDE4VIDEO}): ("RGB + Depth", "RGB S4V, depth S4V", "s", "70.3"),
    frozenset({RGB_SIDE4VIDEO, DEPTH_SIDE4VIDEO, DEPTH_VIDEOMAMBA}): (
        "RGB + Depth + Depth(VideoMamba) (DEAR)", "all three", "s, v, mean", "70.8 (paper), 71.0 (poster)"
    ),
    frozenset({DEPTH_SIDE4VIDEO}): ("depth only (S4V)", "depth S4V", "none", "56.0 (poster)"),
    frozenset({DEPTH_VIDEOMAMBA}): ("depth only (VideoMamba-Tiny)", "VideoMamba", "none", "52.0 (poster)"),
}


def template_path() -> Path:
    candidates = [Path(__file__).parent / "hub_cards", Path(__file__).parents[1] / "hub_cards"]
    for folder in candidates:
        if (folder / "dear_model_card.md").is_file():
            return folder / "dear_model_card.md"
    raise FileNotFoundError(f"dear_model_card.md not found in {[str(c) for c in candidates]}")


def table_1_row(config: DearConfig) -> tuple[str, str, str, str]:
    key = frozenset(config.encoders)
    if key in TABLE_1 and (config.fusion_streams is None or len(config.encoders) == 1):
        return TABLE_1[key]
    streams = ", ".join(config.logit_sources)
    return ("custom", ", ".join(config.encoders), streams or "none", "not in the paper")


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
):
    """A `huggingface_hub.ModelCard` with metadata (library, pipeline tag, datasets, licence, model-index)."""
    from huggingface_hub import EvalResult, ModelCard, ModelCardData

    variant_name, encoders, streams, paper = table_1_row(config)
    metrics = dict(metrics or {})
    eval_results = []
    for key, metric_type, metric_name in (("top1", "accuracy", "Top-1 accuracy"), ("top5", "top_5_accuracy", "Top-5 accuracy")):
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
    card_data = ModelCardData(
        library_name="transformers",
        pipeline_tag="video-classification",
        license=license,
        datasets=datasets or [eval_dataset_id],
        tags=["video-classification", "action-recognition", "depth", "dear", "side4video", "videomamba"],
        model_name=repo_id.split("/")[-1],
        eval_results=eval_results or None,
    )
    clip = config.clip_config
    return ModelCard.from_template(
        card_data,
        template_path=str(template_path()),
        model_name=repo_id.split("/")[-1],
        repo_id=repo_id,
        variant_name=variant_name,
        variant_description=f"encoders {encoders}; streams {streams}.",
        table_row=" | ".join((variant_name, encoders, streams, paper)),
        num_frames=config.num_frames,
        image_size=config.image_size,
        num_labels=config.num_labels,
        encoders=", ".join(config.encoders),
        clip_description=f"width {clip.hidden_size}, {clip.num_hidden_layers} blocks, patch {clip.patch_size}",
        metrics={key: f"{value:.4f}" if isinstance(value, float) else value for key, value in metrics.items()},
        eval_dataset=eval_dataset,
        eval_split=eval_split,
        eval_views=eval_views,
        depth_description=depth_description,
        depth_colormap=config.depth_colormap,
        training_description=training_description or "See the training arguments saved with the checkpoint.",
        extra_limitations=extra_limitations,
    )
