"""DEAR: depth-enhanced action recognition as a transformers model.

Importing the package registers DEAR with transformers' Auto classes, and marks the classes so that
`save_pretrained` folders carry their code (loadable with `trust_remote_code=True` without this package).
"""

from transformers import AutoConfig, AutoModelForVideoClassification

from .configuration_dear import DearConfig, list_presets
from .configuration_videomamba import VideoMambaConfig
from .modeling_dear import DearForVideoClassification, DearPreTrainedModel, DearVideoClassifierOutput
from .modeling_videomamba import VideoMambaForVideoClassification, VideoMambaModel
from .processing_dear import DearVideoProcessor

__version__ = "0.1.0"

AutoConfig.register(DearConfig.model_type, DearConfig, exist_ok=True)
AutoConfig.register(VideoMambaConfig.model_type, VideoMambaConfig, exist_ok=True)
AutoModelForVideoClassification.register(DearConfig, DearForVideoClassification, exist_ok=True)
AutoModelForVideoClassification.register(VideoMambaConfig, VideoMambaForVideoClassification, exist_ok=True)
DearConfig.register_for_auto_class()
DearForVideoClassification.register_for_auto_class("AutoModelForVideoClassification")

__all__ = [
    "DearConfig",
    "DearForVideoClassification",
    "DearPreTrainedModel",
    "DearVideoClassifierOutput",
    "DearVideoProcessor",
    "VideoMambaConfig",
    "VideoMambaForVideoClassification",
    "VideoMambaModel",
    "list_presets",
]
