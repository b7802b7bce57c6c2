# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""`DearVideoClassificationPipeline`: a video file in, the top-k action labels with their scores out.

transformers' stock video-classification pipeline decodes the first `num_frames` frames of a video with
PyAV (frames 0..7 of an SSv2 clip: the first 0.7 s of 4 s) and hands them to the image processor. A DEAR
model was trained on frames spread over the whole clip, so this pipeline lets the model's saved
`DearVideoProcessor` decode and sample the video itself: TSN segment centres (or the stride rule) from its
settings, its resize and crop, its normalisation, and the depth (or other-modality) videos it may be given. When
the model bundles a depth estimator, depth is computed inside the model from the sampled frames.

Saved DEAR checkpoints carry this file and a `custom_pipelines` entry in `config.json`, so
`pipeline("video-classification", model=folder, trust_remote_code=True)` resolves to it without the package.
The file imports only its siblings (relatively), as transformers' remote code loading requires.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os

import numpy as np
import torch
from transformers import Pipeline

from .configuration_dear import DEPTH, RGB, modality_column
from .depth_estimation import cpu_supports_bf16
from .label_sets import ACTION_VERB_MULTIPLIER, action_scores, split_label_sets
from .processing_dear import DearVideoProcessor

PROCESSOR_FILE = "preprocessor_config.json"
MODES = ("val", "test")
PRECISIONS = ("fp32", "bf16", "auto")


def resolve_precision(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype of a pipeline `precision`: None for "fp32"; bfloat16 for "bf16"; for "auto", bfloat16
    where it is fast (a CPU with avx512_bf16/amx_bf16, a CUDA device that supports it), else None (fp32)."""
    if precision not in PRECISIONS:
        raise ValueError(
            f"precision must be one of {PRECISIONS} ('auto': bf16 autocast where the device runs bf16 natively), "
            f"got {precision!r}"
        )
    if precision == "fp32":
        return None
    if precision == "bf16":
        return torch.bfloat16
    if device.type == "cpu":
        return torch.bfloat16 if cpu_supports_bf16() else None
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else None
    return None


def _source_of(model) -> str:
    return str(getattr(model, "name_or_path", "") or getattr(model.config, "_name_or_path", "") or "")


def load_processor(model) -> DearVideoProcessor:
    """The `DearVideoProcessor` saved beside `model` (in the folder or Hub repository it was loaded from)."""
    source = _source_of(model)
    if not source:
        raise ValueError(
            "DearVideoClassificationPipeline: the model was not loaded from a folder, so there is no saved processor "
            "to read; pass image_processor=DearVideoProcessor(...)"
        )
    if os.path.isdir(source):
        path = os.path.join(source, PROCESSOR_FILE)
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"{path}: no such file. The DEAR pipeline decodes and samples videos with the DearVideoProcessor "
                f"saved beside the model: save it with processor.save_pretrained({source!r})"
            )
        with open(path, encoding="utf-8") as handle:
            try:
                saved_type = json.load(handle).get("image_processor_type")
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}: not valid JSON ({error})") from None
        if saved_type not in (None, DearVideoProcessor.__name__):
            raise ValueError(f"{path}: holds a {saved_type}, the DEAR pipeline needs a {DearVideoProcessor.__name__}")
    try:
        return DearVideoProcessor.from_pretrained(source)
    except OSError as error:
        raise OSError(
            f"{source}: no {PROCESSOR_FILE} could be loaded ({error}); the DEAR pipeline needs the DearVideoProcessor "
            "saved beside the model"
        ) from error


class DearVideoClassificationPipeline(Pipeline):
    """
    Video classification with a DEAR model (`DearForVideoClassification`).

    Inputs: a path to a video file (WebM, MP4, anything PyAV or decord reads), its bytes, a binary file object,
    or decoded frames as a (T, H, W, 3) uint8 array; or a dict of one clip's videos by dataset column, `{"video":
    ..., "depth": ..., "<modality>": ...}` (the RGB video under `"video"`, each other modality the model reads
    under its name, as a dataset row holds them); or a list of those. Frames are sampled across the whole clip by
    the processor's `sampling` setting (TSN segment centres by default).

    Call arguments:
        top_k (`int`, defaults to 5): how many labels to return (at most `num_labels`).
        mode (`str`, defaults to `"val"`): `"val"` classifies one centre-cropped clip; `"test"` averages the
            scores of the processor's `num_test_clips` × `num_test_crops` views (the paper's 2 × 3 protocol).
        depth: a depth video (or (T, H, W) uint8 depth) aligned with the input, for a model that bundles no depth
            estimator; with an estimator, depth is computed from the sampled frames when this is left out.
        <modality> (e.g. `flow=...`): the video of another modality the model's encoders read (see
            `config.modalities`), aligned with the input; required for every such modality. For a list of inputs,
            give each clip's videos in its dict instead.
        function_to_apply (`str`): `"softmax"` (default), `"sigmoid"` or `"none"`, as transformers' pipeline.
        frame_sampling_rate (`int`): as transformers' pipeline, frames this many apart (centred in the video, the
            processor's `sampling="stride"`) instead of the processor's own sampling.
        num_frames (`int`): accepted when it equals `config.num_frames`, refused otherwise (the model's clip
            length is fixed by its weights).
        precision (`str`, defaults to `"fp32"`): `"bf16"` runs the model (and its bundled depth estimator) under
            bfloat16 autocast; `"auto"` does so where the device has native bf16 (CPUs with avx512_bf16/amx_bf16,
            CUDA) and stays fp32 elsewhere. bf16 changes the logits slightly (`dear-predict` and the demo use
            "auto"; README, Performance, gives the measured difference).

    Returns:
        A list of `{"label": str, "score": float}`, best first (a list of such lists for a list of inputs).
        A model with several label sets (`config.label_sets`) gives a dict instead: each set's top-k list by set
        name (`{"verb": [...], "noun": [...]}`, each set soft-maxed on its own) and, for `verb` and `noun` sets,
        `"action"`: the top-k actions `{"label": "<verb> <noun>", "verb", "noun", "action_id": verb × 1000 + noun,
        "score"}` as EPIC-Kitchens scores them (the product of the verb and noun probabilities).
        A video that cannot be read raises `VideoDecodingError` (a `ValueError`) naming it; no labels are given
        for it.
    """

    _load_processor = False
    # loaded in __init__ instead of by pipeline(), so that a missing processor names the file it looked for
    _load_image_processor = False
    _load_video_processor = False
    _load_feature_extractor = False
    _load_tokenizer = False

    def __init__(self, model, image_processor=None, **kwargs):
        config = model.config
        if not hasattr(config, "needs_depth") or not hasattr(config, "modalities"):
            raise ValueError(
                f"DearVideoClassificationPipeline runs DEAR models; got a {type(model).__name__} "
                f"(model_type {getattr(config, 'model_type', None)!r})"
            )
        if image_processor is None:
            image_processor = load_processor(model)
        if not hasattr(image_processor, "sampling") or not hasattr(image_processor, "num_frames"):
            raise TypeError(
                f"DearVideoClassificationPipeline needs a DearVideoProcessor, got {type(image_processor).__name__}"
            )
        super().__init__(model=model, image_processor=image_processor, **kwargs)
        self._check_processor_fits_model()

    def _check_processor_fits_model(self) -> None:
        config, processor = self.model.config, self.image_processor
        crop = processor.crop_size
        problems = []
        if processor.num_frames != config.num_frames:
            problems.append(f"the processor samples {processor.num_frames} frames, the model takes {config.num_frames}")
        if (crop["height"], crop["width"]) != (config.image_size, config.image_size):
            problems.append(
                f"the processor crops {crop['height']}x{crop['width']}, the model takes {config.image_size}x{config.image_size}"
            )
        if config.estimates_depth and (
            not np.allclose(processor.image_mean, config.image_mean)
            or not np.allclose(processor.image_std, config.image_std)
        ):
            # on-the-fly depth undoes the config's normalisation to recover the frames
            problems.append(
                f"the processor normalises with mean {processor.image_mean} / std {processor.image_std}, the model's "
                f"depth estimation expects {config.image_mean} / {config.image_std}"
            )
        lacking = [m for m in config.modalities if m not in getattr(processor, "modalities", config.modalities)]
        if lacking:
            problems.append(
                f"the model reads modalities {config.modalities}, the processor takes {processor.modalities} (no "
                f"{lacking}): save DearVideoProcessor.from_model_config(model.config) beside the model"
            )
        if problems:
            raise ValueError(
                f"{_source_of(self.model) or 'model'}: processor and model disagree: " + "; ".join(problems)
            )

    @property
    def other_modalities(self) -> list[str]:
        """The modalities besides RGB and depth that the model reads: each a call argument of its name."""
        return [m for m in self.model.config.modalities if m not in (RGB, DEPTH)]

    def _sanitize_parameters(
        self,
        top_k=None,
        mode=None,
        depth=None,
        function_to_apply=None,
        num_frames=None,
        frame_sampling_rate=None,
        precision=None,
        **modality_videos,
    ):
        preprocess_params, forward_params, postprocess_params = {}, {}, {}
        unknown = [name for name in modality_videos if name not in self.other_modalities]
        if unknown:
            raise TypeError(
                f"{type(self).__name__} got unexpected argument(s) {unknown}; it takes top_k, mode, depth, "
                "function_to_apply, num_frames, frame_sampling_rate, precision"
                + (
                    f" and the videos of the model's modalities {self.other_modalities}"
                    if self.other_modalities
                    else ""
                )
            )
        preprocess_params.update({name: video for name, video in modality_videos.items() if video is not None})
        # transformers' VideoClassificationPipeline arguments: a DEAR model's clip length is fixed by its weights
        # (temporal position embeddings), and the stride maps onto the processor's fixed-stride sampling
        if num_frames is not None and int(num_frames) != self.model.config.num_frames:
            raise ValueError(
                f"num_frames={num_frames}: this DEAR model takes exactly {self.model.config.num_frames} frames per clip "
                "(config.num_frames, fixed by its weights); leave num_frames out"
            )
        if frame_sampling_rate is not None:
            if int(frame_sampling_rate) < 1:
                raise ValueError(f"frame_sampling_rate must be a positive number of frames, got {frame_sampling_rate}")
            preprocess_params["frame_sampling_rate"] = int(frame_sampling_rate)
        if mode is not None:
            if mode not in MODES:
                raise ValueError(
                    f"mode must be one of {MODES} ('val': one centre clip; 'test': the processor's multi-view protocol), "
                    f"got {mode!r}"
                )
            preprocess_params["mode"] = mode
        if depth is not None:
            preprocess_params["depth"] = depth
        if top_k is not None:
            if int(top_k) < 1:
                raise ValueError(f"top_k must be at least 1, got {top_k}")
            postprocess_params["top_k"] = int(top_k)
        if function_to_apply is not None:
            if function_to_apply not in ("softmax", "sigmoid", "none"):
                raise ValueError(f"function_to_apply must be 'softmax', 'sigmoid' or 'none', got {function_to_apply!r}")
            postprocess_params["function_to_apply"] = function_to_apply
        if precision is not None:
            forward_params["autocast_dtype"] = resolve_precision(precision, self.device)
        return preprocess_params, forward_params, postprocess_params

    def preprocess(
        self, video, mode: str = "val", depth=None, frame_sampling_rate: int | None = None, **modality_videos
    ):
        """Decode and sample one video with the processor: `pixel_values` (V, T, 3, H, W) for its V views (1 in
        "val" mode), `depth_pixel_values` when `depth` is given, `<modality>_pixel_values` for the other modalities,
        and `frame_indices` (V, T). `video` may be a dict of the clip's videos by column (`{"video": ..., "depth":
        ..., "<modality>": ...}`). `frame_sampling_rate` switches to `num_frames` frames that many apart (the
        processor's `sampling="stride"`) instead of the processor's own sampling."""
        config = self.model.config
        if isinstance(video, dict):
            video, depth, modality_videos = self._split_input(video, depth, modality_videos)
        for modality in self.other_modalities:
            if modality_videos.get(modality) is None:
                readers = config.encoders_reading(modality)
                raise ValueError(
                    f"{_source_of(self.model) or 'this model'} has encoder(s) {readers} that read modality {modality!r}: "
                    f"pass its video aligned with the RGB one, pipe(video, {modality}=<{modality} video>) or "
                    f"pipe({{'video': video, {modality_column(modality)!r}: <{modality} video>}})"
                )
        if config.needs_depth and depth is None and not config.estimates_depth:
            raise ValueError(
                f"{_source_of(self.model) or 'this model'} has depth encoders {config.encoders} but bundles no depth "
                "estimator: pass depth=<depth video> to the pipeline, or attach one with "
                "model.attach_depth_estimator('Intel/dpt-hybrid-midas') and save the model again"
            )
        if isinstance(video, (list, tuple)):
            raise TypeError(
                "one video per input: a path, bytes, a binary file object or a (T, H, W, 3) uint8 array "
                "(a list is a batch of videos)"
            )
        names = [os.fspath(video)] if isinstance(video, (str, os.PathLike)) else None
        processor = self.image_processor
        if frame_sampling_rate is not None:
            processor = copy.copy(processor)
            processor.sampling, processor.frame_stride = "stride", frame_sampling_rate
        inputs = processor(video, depth=depth, mode=mode, return_tensors="pt", names=names, **modality_videos)
        model_inputs = {key: value.to(self.dtype) for key, value in inputs.items() if key.endswith("pixel_values")}
        model_inputs["frame_indices"] = inputs["frame_indices"]
        return model_inputs

    def _split_input(self, row: dict, depth, modality_videos: dict):
        """A dict input (`{"video": ..., "depth": ..., "<modality>": ...}`) → the RGB video, depth, other modalities."""
        columns = {modality_column(RGB): RGB, modality_column(DEPTH): DEPTH}
        columns.update({modality_column(m): m for m in self.other_modalities})
        unknown = [key for key in row if key not in columns]
        if unknown or modality_column(RGB) not in row:
            raise ValueError(
                f"a dict input holds one clip's videos by column: {list(columns)} (the RGB video under "
                f"{modality_column(RGB)!r}, required); got keys {list(row)}"
            )
        given = {columns[key]: value for key, value in row.items()}
        twice = [m for m in given if m != RGB and (depth if m == DEPTH else modality_videos.get(m)) is not None]
        if twice:
            raise ValueError(f"{twice} given both in the input dict and as call arguments; give each once")
        depth = given.get(DEPTH, depth)
        modality_videos = {**modality_videos, **{m: v for m, v in given.items() if m not in (RGB, DEPTH)}}
        return given[RGB], depth, modality_videos

    def _forward(self, model_inputs, autocast_dtype: torch.dtype | None = None):
        context = (
            torch.autocast(self.device.type, dtype=autocast_dtype)
            if autocast_dtype is not None
            else contextlib.nullcontext()
        )
        with context:
            outputs = self.model(**{key: value for key, value in model_inputs.items() if key.endswith("pixel_values")})
        return {"logits": outputs.logits.float(), "frame_indices": model_inputs["frame_indices"]}

    def postprocess(self, model_outputs, top_k: int = 5, function_to_apply: str | None = None):
        config = self.model.config
        if function_to_apply is None:
            function_to_apply = {"regression": "none", "multi_label_classification": "sigmoid"}.get(
                config.problem_type, "softmax"
            )
        logits = model_outputs["logits"].float()  # (views, classes)
        if function_to_apply == "softmax":
            scores = logits.softmax(-1)
        elif function_to_apply == "sigmoid":
            scores = logits.sigmoid()
        else:
            scores = logits
        if getattr(config, "label_sets", None) is not None:
            return self._postprocess_label_sets(logits, top_k, function_to_apply)
        # the test protocol averages the views' probabilities, not their logits
        scores = scores.mean(0)
        values, ids = scores.topk(min(top_k, config.num_labels))
        return [{"label": config.id2label[i], "score": v} for v, i in zip(values.tolist(), ids.tolist(), strict=True)]

    def _postprocess_label_sets(self, logits: torch.Tensor, top_k: int, function_to_apply: str) -> dict:
        config = self.model.config
        results, probabilities = {}, {}
        for name, part in split_label_sets(logits, config.label_set_sizes).items():
            probabilities[name] = part.softmax(-1).mean(0)  # the views' probabilities averaged
            scores = {"softmax": probabilities[name], "sigmoid": part.sigmoid().mean(0), "none": part.mean(0)}
            values, ids = scores[function_to_apply].topk(min(top_k, part.shape[-1]))
            classes = config.label_sets[name]
            results[name] = [
                {"label": classes[i], "score": v} for v, i in zip(values.tolist(), ids.tolist(), strict=True)
            ]
        if config.predicts_actions:
            ids, values = action_scores(probabilities["verb"][None], probabilities["noun"][None], top_actions=top_k)
            actions = []
            for action, value in zip(ids[0].tolist(), values[0].tolist(), strict=True):
                verb, noun = divmod(action, ACTION_VERB_MULTIPLIER)
                verb_name, noun_name = config.label_sets["verb"][verb], config.label_sets["noun"][noun]
                actions.append(
                    {
                        "label": f"{verb_name} {noun_name}",
                        "verb": verb_name,
                        "noun": noun_name,
                        "action_id": action,
                        "score": value,
                    }
                )
            results["action"] = actions
        return results

    def save_pretrained(self, save_directory, **kwargs):
        """Save the model (its code, this pipeline's file and the `custom_pipelines` entry come with it) and the
        processor into one folder that `pipeline("video-classification", model=folder, ...)` can load."""
        os.makedirs(save_directory, exist_ok=True)
        self.model.save_pretrained(save_directory, **kwargs)
        self.image_processor.save_pretrained(save_directory, **kwargs)


def frames_from_pixel_values(pixel_values: torch.Tensor, image_mean, image_std) -> np.ndarray:
    """Normalised `pixel_values` (T, 3, H, W) → the uint8 frames (T, H, W, 3) they were made from."""
    shift = torch.tensor(image_mean, dtype=torch.float32) * 255.0
    scale = torch.tensor(image_std, dtype=torch.float32) * 255.0
    frames = pixel_values.detach().float().cpu() * scale.view(1, -1, 1, 1) + shift.view(1, -1, 1, 1)
    return frames.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).contiguous().numpy()


__all__ = ["DearVideoClassificationPipeline", "load_processor", "frames_from_pixel_values", "resolve_precision"]
