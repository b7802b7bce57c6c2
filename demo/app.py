#!/usr/bin/env python
# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""DEAR as a Gradio app: upload a video (or pick an example), see what the model saw and what it answered.

    python demo/app.py                          # the main job's DEAR model (outputs/main_job/DEAR)
    python demo/app.py --model path/or/hub-id   # any saved DEAR model with its DearVideoProcessor

The page shows the top-5 classes, the frames the model sampled (RGB beside colour-mapped depth), each stream's
own top classes and the time taken. All the work is the package's: `pipeline("dear-video-classification")`
decodes, samples and normalises (and estimates depth when the model bundles an estimator), and
`modeling_dear.cli.predict` recovers and draws the frames. On a Hugging Face Space the model comes from the
`DEAR_DEMO_MODEL` variable (see demo/README.md).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

# no usage statistics leave the machine; set before gradio is imported, which reads it
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402
import torch  # noqa: E402
from transformers import pipeline  # noqa: E402

import modeling_dear  # noqa: E402,F401  (registers the DEAR pipeline and Auto classes)
from modeling_dear.cli.predict import save_rgb_visualization, seen_frames_and_depth  # noqa: E402
from modeling_dear.depth_estimation import save_depth_visualization  # noqa: E402
from modeling_dear.model_sources import check_model_source, check_model_type, folder_model_type  # noqa: E402
from modeling_dear.pipeline_dear import PRECISIONS, resolve_precision  # noqa: E402
from modeling_dear.video_io import VideoDecodingError  # noqa: E402

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE / "examples"
MAIN_JOB_MODEL = Path("outputs") / "main_job" / "DEAR"  # examples/main_job.py's --output default, its DEAR run
DEFAULT_MAX_VIDEO_MB = 50.0
TOP_K, STREAM_TOP_K = 5, 3


class DemoInputError(ValueError):
    """Input the demo refuses, with a one-line message for the page that says what to do instead."""


def default_model() -> str:
    """`DEAR_DEMO_MODEL`, else on a Space the first of `models:` in its README.md, else the main job's DEAR model
    (from the working directory or the repository)."""
    if os.environ.get("DEAR_DEMO_MODEL"):
        return os.environ["DEAR_DEMO_MODEL"]
    if os.environ.get("SPACE_ID"):  # set by Hugging Face Spaces
        from huggingface_hub.repocard import metadata_load

        models = (metadata_load(HERE / "README.md") or {}).get("models") or []
        if models:
            return models[0]
    for candidate in (Path.cwd() / MAIN_JOB_MODEL, HERE.parent / MAIN_JOB_MODEL):
        if (candidate / "config.json").is_file():
            return str(candidate)
    raise SystemExit(
        f"demo/app.py: no model given and none at {MAIN_JOB_MODEL}/ (the main job's DEAR model). Make it with "
        "`python examples/main_job.py` (about 10 minutes on 2 CPU cores), or pass --model <folder or Hub id>."
    )


def _size_mb(path: Path) -> float:
    return path.stat().st_size / 1e6


def check_upload(path, what: str, max_mb: float) -> Path:
    """The uploaded file as a Path, or a `DemoInputError` for a missing, too large or still-image file."""
    if path is None:
        raise DemoInputError(f"no {what} given: upload one or pick an example below")
    path = Path(path if isinstance(path, (str, os.PathLike)) else getattr(path, "path", None) or path.name)
    if not path.is_file():
        raise DemoInputError(f"{path.name}: the upload did not arrive; upload the {what} again")
    if _size_mb(path) > max_mb:
        raise DemoInputError(
            f"{path.name} is {_size_mb(path):.1f} MB; this demo takes videos up to {max_mb:g} MB: cut or compress it"
        )
    # PyAV reads a still image as a one-frame "video", which would be padded to a clip and classified: refuse it
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            kind = image.format
    except (UnidentifiedImageError, OSError):
        return path
    raise DemoInputError(f"{path.name} is an image ({kind}), not a video: upload a video file (WebM, MP4, AVI, ...)")


@dataclass
class Result:
    top: dict[str, float]
    streams: dict[str, list[dict]]
    grid: str
    animation: str
    frame_indices: list[int]
    depth_source: str
    seconds: dict[str, float] = field(default_factory=dict)


def _stream_name(config, source: str) -> str:
    words = {"rgb": "RGB", "side4video": "Side4Video", "videomamba": "VideoMamba"}
    pretty = " ".join(words.get(word, word) for word in source.split("_"))
    # a fused stream is named after the encoder RGB is fused with; an unfused encoder classifies alone
    fused = source in (getattr(config, "active_streams", None) or [])
    return f"RGB ⇄ {pretty}" if fused else pretty


def _ranked(result) -> list[dict]:
    """The pipeline's top labels as one list: for a model with label sets (a dict by set), its top actions (verb and
    noun sets, EPIC-Kitchens style), else every set's labels named `<set>: <label>`, best first."""
    if not isinstance(result, dict):
        return result
    if "action" in result:
        return result["action"]
    merged = [
        {"label": f"{name}: {r['label']}", "score": r["score"]} for name, ranked in result.items() for r in ranked
    ]
    return sorted(merged, key=lambda r: -r["score"])


class DearDemo:
    """The model behind the page: one pipeline, loaded once, and the work of one click."""

    def __init__(
        self,
        model: str,
        device: str | None = None,
        max_video_mb: float = DEFAULT_MAX_VIDEO_MB,
        precision: str = "auto",
    ):
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        check_model_source(model, "--model")
        check_model_type(folder_model_type(model), f"--model {model}")
        self.pipe = pipeline("dear-video-classification", model=model, device=device)
        # "auto": bf16 autocast where the device runs it natively (README, Performance: the logit difference)
        self.autocast_dtype = resolve_precision(precision, self.pipe.device)
        self.model_name = model
        self.max_video_mb = max_video_mb
        self.work_dir = Path(tempfile.mkdtemp(prefix="dear-demo-"))
        config = self.pipe.model.config
        if not config.needs_depth:
            self.depth_note = "This model reads RGB only: no depth is used (an uploaded depth video is ignored)."
        elif config.estimates_depth:
            source = config.depth_estimator_name_or_path
            self.depth_note = (
                "Depth is estimated from the sampled frames by the model's bundled depth estimator"
                + (f" ({source})" if source else "")
                + "; an uploaded depth video is used instead when given."
            )
        else:
            self.depth_note = (
                "This model bundles no depth estimator: upload the depth video aligned with the clip "
                "(the examples come with theirs)."
            )

    def classify(self, video, depth=None, mode: str = "val", progress=None) -> Result:
        progress = progress or (lambda *args, **kwargs: None)
        pipe, config = self.pipe, self.pipe.model.config
        video = check_upload(video, "video", self.max_video_mb)
        if depth is not None and config.needs_depth:
            depth = str(check_upload(depth, "depth video", self.max_video_mb))
        else:
            depth = None
        if config.needs_depth and depth is None and not config.estimates_depth:
            raise DemoInputError(
                "this model bundles no depth estimator and no depth video was given: upload the clip's depth video "
                "too (the examples come with theirs)"
            )
        seconds = {}

        progress(0.05, desc="Decoding and sampling frames")
        start = time.perf_counter()
        inputs = pipe.preprocess(str(video), mode=mode, depth=depth)
        seconds["decode and sample"] = time.perf_counter() - start

        progress(
            0.3, desc="Estimating depth and classifying" if depth is None and config.needs_depth else "Classifying"
        )
        start = time.perf_counter()
        estimated = config.needs_depth and "depth_pixel_values" not in inputs
        pixel_values = inputs["pixel_values"].to(pipe.device)
        with torch.no_grad(), self._precision():
            depth_levels = None
            if estimated:
                # depth once, for the model and the pictures (what the model's forward would compute itself)
                depth_levels = pipe.model.estimate_depth(pixel_values)
                depth_pixel_values = pipe.model.depth_pixel_values_from_depth(depth_levels)
            elif "depth_pixel_values" in inputs:
                depth_pixel_values = inputs["depth_pixel_values"].to(pipe.device)
            else:
                depth_pixel_values = None
            outputs = pipe.model(pixel_values=pixel_values, depth_pixel_values=depth_pixel_values)
        # postprocess averages the views' probabilities (1 view in "val" mode, the test protocol's in "test")
        top = _ranked(pipe.postprocess({"logits": outputs.logits.float()}, top_k=TOP_K))
        streams = {
            _stream_name(config, source): _ranked(
                pipe.postprocess({"logits": outputs.stream_logits[:, s].float()}, top_k=STREAM_TOP_K)
            )
            for s, source in enumerate(config.logit_sources)
        }
        seconds["model, with depth estimation" if estimated else "model"] = time.perf_counter() - start

        progress(0.8, desc="Drawing the frames the model saw")
        start = time.perf_counter()
        if estimated:
            frames, _ = seen_frames_and_depth(pipe, {"pixel_values": inputs["pixel_values"]}, with_depth=False)
            depth_levels = depth_levels[0].cpu().numpy()
        else:
            frames, depth_levels = seen_frames_and_depth(pipe, inputs)  # depth None for an RGB-only model
        if not config.needs_depth:
            depth_source = "none (RGB-only model)"
        else:
            depth_source = "the uploaded depth video" if depth is not None else "estimated by the bundled depth model"
        stem = self.work_dir / uuid.uuid4().hex
        grid, animation = stem.with_suffix(".png"), stem.with_suffix(".gif")
        if depth_levels is None:
            save_rgb_visualization(frames, grid, animation, fps=4)
        else:
            save_depth_visualization(
                frames, depth_levels, grid, animation, colormap=pipe.image_processor.depth_colormap, fps=4
            )
        seconds["pictures"] = time.perf_counter() - start
        progress(1.0, desc="Done")
        return Result(
            top={r["label"]: r["score"] for r in top},
            streams=streams,
            grid=str(grid),
            animation=str(animation),
            frame_indices=inputs["frame_indices"][0].tolist(),
            depth_source=depth_source,
            seconds=seconds,
        )

    def _precision(self):
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.pipe.device.type, dtype=self.autocast_dtype)

    def run(self, video, depth, test_views: bool, progress=gr.Progress()):
        """The button's handler: (status, top-5, per-stream table, frames grid, animation). Refused input comes back
        as a one-line status, never a traceback."""
        try:
            result = self.classify(video, depth, mode="test" if test_views else "val", progress=progress)
        except (DemoInputError, VideoDecodingError, ValueError, OSError) as error:
            # the package's own refusals name the file by its path, which for an upload is a server temp folder
            message = " ".join(str(error).split())
            for upload in (video, depth):
                if isinstance(upload, (str, os.PathLike)):
                    message = message.replace(os.fspath(upload), Path(upload).name)
            return f"**Error:** {message}", None, "", None, None
        total = sum(result.seconds.values())
        parts = ", ".join(f"{name} {value:.2f} s" for name, value in result.seconds.items())
        status = (
            f"**Done in {total:.2f} s** ({parts}). Frames {', '.join(map(str, result.frame_indices))}; "
            f"depth: {result.depth_source}."
        )
        return status, result.top, stream_table(result.streams), result.grid, result.animation


def stream_table(streams: dict[str, list[dict]]) -> str:
    """Markdown: one column per stream, its own top classes, best first."""
    names = list(streams)
    rows = [
        "| # | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for rank in range(max(len(v) for v in streams.values())):
        cells = [f"{v[rank]['label']} ({v[rank]['score']:.2f})" if rank < len(v) else "" for v in streams.values()]
        rows.append(f"| {rank + 1} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def example_rows() -> tuple[list[list[str]], list[str]]:
    rows, labels = [], []
    for video in sorted(EXAMPLES.glob("*.webm")):
        depth = video.with_name(video.stem + "_depth.mp4")
        rows.append([str(video), str(depth) if depth.is_file() else None])
        labels.append(video.stem.replace("_", " ").capitalize())
    return rows, labels


def build_app(demo: DearDemo) -> gr.Blocks:
    config = demo.pipe.model.config
    with gr.Blocks(title="DEAR: depth-enhanced action recognition") as app:
        gr.Markdown(
            "# DEAR: depth-enhanced action recognition\n"
            f"Model `{demo.model_name}`: {len(config.id2label)} classes, encoders {', '.join(config.encoders)}; "
            f"{config.num_frames} frames sampled across the whole clip. {demo.depth_note}\n\n"
            f"Upload a video (WebM, MP4, ..., up to {demo.max_video_mb:g} MB) or pick an example, then press Classify."
        )
        with gr.Row():
            with gr.Column():
                video = gr.File(label="Video", elem_id="video")
                if config.estimates_depth:
                    depth_label = "Depth video (optional: replaces the estimated depth; aligned with the video)"
                else:
                    depth_label = "Depth video (needed by this model; aligned with the video, frame for frame)"
                # an RGB-only model has no use for depth: the input is hidden
                depth = gr.File(label=depth_label, elem_id="depth", visible=config.needs_depth)
                test_views = gr.Checkbox(label="Average 2 clips × 3 crops (the test protocol; slower)", value=False)
                button = gr.Button("Classify", variant="primary", elem_id="classify")
                rows, labels = example_rows()
                if rows:
                    gr.Examples(
                        rows, inputs=[video, depth], example_labels=labels, label="Example clips (synthetic data)"
                    )
            with gr.Column():
                status = gr.Markdown(elem_id="status")
                top = gr.Label(num_top_classes=TOP_K, label="Top-5 classes", elem_id="top5")
                streams = gr.Markdown(elem_id="streams", label="Each stream's own top classes")
        with gr.Row():
            seen = "Frames the model saw: RGB | depth" if config.needs_depth else "Frames the model saw"
            grid = gr.Image(type="filepath", label=seen, elem_id="frames")
            animation = gr.Image(type="filepath", label="The same frames, animated", elem_id="animation")
        button.click(demo.run, inputs=[video, depth, test_views], outputs=[status, top, streams, grid, animation])
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--model", help="saved DEAR model: folder or Hub id (default: the main job's, outputs/main_job/DEAR)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to serve on (0.0.0.0 to share on the network)")
    parser.add_argument("--port", type=int, default=7860)
    parser.add_argument("--device", help="torch device (default: cuda when available, else cpu)")
    parser.add_argument("--max-video-mb", type=float, default=DEFAULT_MAX_VIDEO_MB, help="largest upload accepted")
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="auto",
        help="auto (default): bf16 autocast where the device runs bf16 natively, else fp32; or fp32 / bf16",
    )
    args = parser.parse_args(argv)

    model = args.model or default_model()
    try:
        demo = DearDemo(model, device=args.device, max_video_mb=args.max_video_mb, precision=args.precision)
    except (OSError, ValueError, TypeError) as error:
        raise SystemExit(f"demo/app.py: cannot load {model!r} as a DEAR model with its processor: {error}") from None
    build_app(demo).queue().launch(
        server_name=args.host,
        server_port=args.port,
        max_file_size=f"{args.max_video_mb:g}mb",
        allowed_paths=[str(EXAMPLES), str(demo.work_dir)],
        show_error=False,
    )


if __name__ == "__main__":
    main()
