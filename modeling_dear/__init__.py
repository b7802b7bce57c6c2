# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""DEAR: depth-enhanced action recognition as a transformers model.

Importing the package registers DEAR with transformers' Auto classes, and marks the classes so that
`save_pretrained` folders carry their code (loadable with `trust_remote_code=True` without this package).
It also routes transformers' "video-classification" task to `DearVideoClassificationPipeline` for DEAR models
(other models keep transformers' pipeline), and registers it as "dear-video-classification"; saved checkpoints
map "video-classification" to the same pipeline for remote-code loading.
"""

from transformers import AutoConfig, AutoModel, AutoModelForVideoClassification
from transformers.pipelines import PIPELINE_REGISTRY, VideoClassificationPipeline

from .configuration_dear import DearConfig, list_presets
from .configuration_videomamba import VideoMambaConfig
from .modeling_dear import (
    DearForVideoClassification,
    DearModel,
    DearModelOutput,
    DearPreTrainedModel,
    DearVideoClassifierOutput,
)
from .modeling_encoders import DearEncoder, DearEncoderOutput, register_encoder
from .modeling_videomamba import VideoMambaForVideoClassification, VideoMambaModel
from .pipeline_dear import DearVideoClassificationPipeline
from .processing_dear import DearVideoProcessor

__version__ = "0.1.0"

AutoConfig.register(DearConfig.model_type, DearConfig, exist_ok=True)
AutoConfig.register(VideoMambaConfig.model_type, VideoMambaConfig, exist_ok=True)
AutoModel.register(DearConfig, DearModel, exist_ok=True)
AutoModelForVideoClassification.register(DearConfig, DearForVideoClassification, exist_ok=True)
AutoModelForVideoClassification.register(VideoMambaConfig, VideoMambaForVideoClassification, exist_ok=True)
DearConfig.register_for_auto_class()
DearModel.register_for_auto_class("AutoModel")
DearForVideoClassification.register_for_auto_class("AutoModelForVideoClassification")


class VideoClassificationPipelineForDear(VideoClassificationPipeline):
    """transformers' "video-classification" task with the package imported: DEAR models get
    `DearVideoClassificationPipeline` (whole-clip sampling, depth), every other model an instance of exactly
    transformers' `VideoClassificationPipeline`, built with the same arguments. No instance of this class is ever
    made: it only dispatches. It subclasses transformers' pipeline so that `pipeline()` reads the same loading flags
    (`_load_image_processor`, ...) from it as from the original."""

    def __new__(cls, *args, **kwargs):
        model = kwargs.get("model", args[0] if args else None)
        if isinstance(getattr(model, "config", None), DearConfig):
            return DearVideoClassificationPipeline(*args, **kwargs)
        # not an instance of cls, so Python does not run __init__ a second time
        return VideoClassificationPipeline(*args, **kwargs)


# Replace the task's implementation only, keeping transformers' entry otherwise (model classes, default model);
# register_pipeline would do the same with a warning on every import.
PIPELINE_REGISTRY.supported_tasks["video-classification"] = {
    **PIPELINE_REGISTRY.supported_tasks["video-classification"],
    "impl": VideoClassificationPipelineForDear,
}
# the same pipeline under a name of its own, for explicit use
PIPELINE_REGISTRY.register_pipeline(
    "dear-video-classification",
    pipeline_class=DearVideoClassificationPipeline,
    pt_model=AutoModelForVideoClassification,
    type="video",
)

__all__ = [
    "DearConfig",
    "DearEncoder",
    "DearEncoderOutput",
    "DearForVideoClassification",
    "DearModel",
    "DearModelOutput",
    "DearPreTrainedModel",
    "DearVideoClassifierOutput",
    "DearVideoClassificationPipeline",
    "DearVideoProcessor",
    "VideoMambaConfig",
    "VideoMambaForVideoClassification",
    "VideoMambaModel",
    "list_presets",
    "register_encoder",
]
