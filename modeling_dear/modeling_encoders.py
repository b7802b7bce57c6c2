# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""DEAR's encoders behind one interface, and the registry that builds them from the config.

An encoder reads the frames of one modality (`rgb`, `depth`, or any other name: the model takes them as
`pixel_values`, `depth_pixel_values`, `<modality>_pixel_values`), has a `hidden_size`, and returns a
`DearEncoderOutput`: its final tokens (B, L, hidden_size) and a pooled vector (B, hidden_size), which is what its
own head classifies when nothing is fused. Encoders that set `reads_backbone = True` also receive the per-layer
hidden states of the one frozen CLIP backbone that `DearModel` owns and runs (Side4Video).

`config.encoders` names the encoders; `config.encoder_spec(name)` says which registered type builds each one and
for which modality. A new encoder type is a `DearEncoder` subclass registered with `@register_encoder("type")`;
see README, "Adding an encoder". `save_custom_encoders` carries such a class into a saved folder, so that the folder
loads with `trust_remote_code=True` where the file defining it is not importable.
"""

from __future__ import annotations

import ast
import builtins
import copy
import inspect
import json
import re
import symtable
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from transformers.utils import ModelOutput

from .atomic_write import write_atomic
from .modeling_side4video import Side4VideoSideNetwork
from .modeling_videomamba import VideoMambaModel

ENCODER_TYPES: dict[str, type[DearEncoder]] = {}


def register_encoder(encoder_type: str, *, override: bool = False):
    """Class decorator: `DearConfig` encoder specs with `"type": encoder_type` build this class.

    A type taken by another class (a built-in one such as "videomamba", or another of yours) is refused unless
    `override=True`; registering a class of the same name again (its module run a second time) replaces it.
    """

    def register(cls):
        if not (isinstance(cls, type) and issubclass(cls, DearEncoder)):
            raise TypeError(f"register_encoder({encoder_type!r}) needs a DearEncoder subclass, got {cls!r}")
        taken = ENCODER_TYPES.get(encoder_type)
        if taken is not None and taken.__qualname__ != cls.__qualname__ and not override:
            raise ValueError(
                f"register_encoder({encoder_type!r}) for {cls.__qualname__}: the type is taken by "
                f"{taken.__module__}.{taken.__qualname__}, which configs naming {encoder_type!r} would no longer "
                f"build; pick another type name, or pass override=True to replace it"
            )
        ENCODER_TYPES[encoder_type] = cls
        cls.encoder_type = encoder_type
        return cls

    return register


def build_encoder(config, name: str) -> DearEncoder:
    """The encoder `config.encoders` calls `name`, built by the class registered for its spec's type."""
    spec = dict(config.encoder_spec(name))
    encoder_type = spec.pop("type")
    if encoder_type not in ENCODER_TYPES:
        carried = any(
            str(reference).startswith(CUSTOM_MODELING_MODULE + ".")
            for reference in (getattr(config, "auto_map", None) or {}).values()
        )
        hint = (
            f"; the folder it was saved to carries that class ({CUSTOM_ENCODER_PREFIX}*.py), which "
            "AutoModelForVideoClassification.from_pretrained(folder, trust_remote_code=True) runs"
            if carried
            else ""
        )
        raise ValueError(
            f"encoder {name!r} has type {encoder_type!r}, which no class is registered for (registered: "
            f"{sorted(ENCODER_TYPES)}); register one with @register_encoder({encoder_type!r}) before building the model"
            + hint
        )
    encoder = ENCODER_TYPES[encoder_type](config, **spec)
    if encoder.modality != spec["modality"] or not isinstance(encoder.hidden_size, int):
        raise TypeError(f"encoder class {type(encoder).__name__} must set .modality and an int .hidden_size")
    return encoder


@dataclass
class DearEncoderOutput(ModelOutput):
    """
    last_hidden_state (B, L, hidden_size): the encoder's final tokens.
    pooler_output (B, hidden_size): what its own head classifies.
    hidden_states: on request, the tokens after the embedding and after each layer.
    attentions: on request, the attention weights of each layer (B, heads, Q, K), where the encoder has attention.
    """

    last_hidden_state: torch.FloatTensor | None = None
    pooler_output: torch.FloatTensor | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None
    attentions: tuple[torch.FloatTensor, ...] | None = None


class DearEncoder(nn.Module):
    """The interface every DEAR encoder implements.

    Subclasses take `(config, modality, **options)` (the options are the extra keys of the encoder's spec in
    `config.encoder_configs`), set `self.modality` and `self.hidden_size`, and implement `forward` below.
    """

    encoder_type: str = ""
    # True: forward also gets `backbone_hidden_states`, the frozen CLIP's per-layer outputs for the same frames
    reads_backbone: bool = False
    modality: str
    hidden_size: int

    def forward(
        self,
        pixel_values: torch.Tensor,
        backbone_hidden_states: tuple[torch.Tensor, ...] | None = None,
        output_hidden_states: bool = False,
        output_attentions: bool = False,
        attn_implementation: str | None = "sdpa",
    ) -> DearEncoderOutput:
        raise NotImplementedError


def check_encoder_output(name: str, encoder: DearEncoder, outputs, batch_size: int, needs_pooled: bool) -> None:
    """Refuse, in one line naming the encoder, an output the model cannot use (instead of a matmul error deep in
    the fusion or the head): a `DearEncoderOutput` with tokens (B, L, hidden_size) and, where its own head reads
    it, `pooler_output` (B, hidden_size)."""
    described = f"encoder {name!r} ({type(encoder).__name__}, hidden_size {encoder.hidden_size})"
    expected = (
        f"return DearEncoderOutput(last_hidden_state=<(batch {batch_size}, tokens, {encoder.hidden_size})>, "
        f"pooler_output=<(batch {batch_size}, {encoder.hidden_size})>)"
    )
    if not isinstance(outputs, DearEncoderOutput):
        raise TypeError(f"{described} returned a {type(outputs).__name__}, not a DearEncoderOutput: {expected}")
    for field_name, dims in (("last_hidden_state", 3), ("pooler_output", 2)):
        value = getattr(outputs, field_name)
        if value is None and (field_name == "last_hidden_state" or needs_pooled):
            raise ValueError(f"{described} returned no {field_name}: {expected}")
        if value is None:
            continue
        shape = tuple(getattr(value, "shape", ()))
        if (
            not isinstance(value, torch.Tensor)
            or len(shape) != dims
            or shape[0] != batch_size
            or shape[-1] != encoder.hidden_size
        ):
            raise ValueError(f"{described} returned {field_name} of shape {shape or type(value).__name__}: {expected}")


@register_encoder("side4video")
class Side4VideoEncoder(Side4VideoSideNetwork, DearEncoder):
    """A Side4Video side network over the shared frozen CLIP: tokens (B, T·N, D), pooled = their mean."""

    reads_backbone = True

    def __init__(self, config, modality: str):
        clip_config = config.clip_config
        super().__init__(
            backbone_hidden_size=clip_config.hidden_size,
            num_backbone_layers=clip_config.num_hidden_layers,
            hidden_size=config.side_hidden_size,
            num_heads=config.side_hidden_size // config.side_head_dim,
            patch_size=clip_config.patch_size,
            num_patches=(config.image_size // clip_config.patch_size) ** 2,
            num_channels=config.num_channels,
            layer_norm_eps=config.layer_norm_eps,
            selective_recompute=config.side_selective_recompute,
        )
        self.modality = modality

    def forward(
        self,
        pixel_values,
        backbone_hidden_states=None,
        output_hidden_states=False,
        output_attentions=False,
        attn_implementation="sdpa",
    ) -> DearEncoderOutput:
        if backbone_hidden_states is None:
            raise ValueError("a Side4Video encoder needs the frozen backbone's hidden states (backbone_hidden_states)")
        batch_size = pixel_values.shape[0]
        tokens, hidden_states, attentions = super().forward(
            pixel_values, backbone_hidden_states, output_hidden_states, attn_implementation
        )
        tokens = tokens.reshape(batch_size, -1, tokens.shape[-1])  # (B·T, N, D) -> (B, T·N, D)
        return DearEncoderOutput(
            last_hidden_state=tokens,
            pooler_output=tokens.mean(dim=1),  # S4V classifies the mean of all its tokens
            hidden_states=hidden_states,
            attentions=attentions if output_attentions else None,
        )


@register_encoder("videomamba")
class VideoMambaEncoder(DearEncoder):
    """A VideoMamba (no attention): tokens (B, 1 + T·N, d), pooled = the final CLS token."""

    def __init__(self, config, modality: str):
        super().__init__()
        self.modality = modality
        self.hidden_size = config.videomamba_config.hidden_size
        self.videomamba = VideoMambaModel(config.videomamba_config)

    def forward(
        self,
        pixel_values,
        backbone_hidden_states=None,
        output_hidden_states=False,
        output_attentions=False,
        attn_implementation="sdpa",
    ) -> DearEncoderOutput:
        outputs = self.videomamba(pixel_values, output_hidden_states=output_hidden_states, return_dict=True)
        return DearEncoderOutput(
            last_hidden_state=outputs.last_hidden_state,
            pooler_output=outputs.pooler_output,
            hidden_states=outputs.hidden_states,
        )


# ----------------------------------------------------------------------------------------------------------------------
# Registered encoders from outside the package, carried into saved folders
#
# A saved folder holds the package modules its model imports (transformers copies them, following relative imports),
# so that it loads with `trust_remote_code=True` without the package. An encoder class registered from elsewhere (a
# user's module, a test file) is none of them. `save_custom_encoders` writes, for each such class, a module with its
# source and what that source uses (imports of the modules, classes and functions it names, the definitions of its
# own module's helpers it calls, literal constants), registering it as the encoder type(s) the config uses; and a
# module that imports those before the model classes. `config.json`'s `auto_map` then names the model classes
# through that module, so that loading the model registers the encoders first.

CUSTOM_ENCODER_PREFIX = "custom_encoder_"
CUSTOM_MODELING_MODULE = "modeling_dear_custom"


class EncoderNotCarried(ValueError):
    """A registered encoder class whose code cannot be written into a saved folder."""


def custom_encoder_classes(config) -> dict[type, list[str]]:
    """The registered classes that build `config`'s encoders and are not DEAR's own, each with its encoder types."""
    classes: dict[type, list[str]] = {}
    for name in config.encoders:
        encoder_type = config.encoder_spec(name)["type"]
        cls = ENCODER_TYPES.get(encoder_type)
        if cls is not None and cls.__module__ != __name__ and encoder_type not in classes.get(cls, []):
            classes.setdefault(cls, []).append(encoder_type)
    return classes


def _is_literal(value) -> bool:
    try:
        again = ast.literal_eval(repr(value))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False
    return type(again) is type(value) and again == value


def _global_names(node: ast.stmt) -> list[str]:
    """The global names a class or function definition reads (annotations aside: the copy does not evaluate them)."""
    node = copy.deepcopy(node)
    for sub in ast.walk(node):
        if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)):
            sub.returns = None
        elif isinstance(sub, ast.arg):
            sub.annotation = None
        elif isinstance(sub, ast.AnnAssign):
            sub.annotation = ast.Constant(None)
    names: list[str] = []

    def collect(table):
        for symbol in table.get_symbols():
            if symbol.is_referenced() and symbol.is_global() and symbol.get_name() not in names:
                names.append(symbol.get_name())
        for child in table.get_children():
            collect(child)

    collect(symtable.symtable(ast.unparse(node), "<encoder>", "exec"))
    return names


def _is_register_encoder_call(decorator: ast.expr) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return (isinstance(target, ast.Name) and target.id == "register_encoder") or (
        isinstance(target, ast.Attribute) and target.attr == "register_encoder"
    )


def encoder_module_source(cls: type, encoder_types: list[str], carried: set[str]) -> str:
    """The text of a module that defines `cls` as its own module does and registers it as `encoder_types`, importing
    only what `cls` uses: other modules by name, this package's modules listed in `carried` relatively.

    Raises `EncoderNotCarried`, naming the encoder type and the fix, when something `cls` uses cannot be written so:
    its source is unavailable (a class typed into an interactive session), or it reads a global that is neither a
    module, nor a class or function importable by name or defined in its module, nor a literal."""
    package = __package__
    module = sys.modules.get(cls.__module__)
    where = Path(getattr(module, "__file__", None) or cls.__module__).name
    imports: dict[str, str] = {}
    definitions: list[str] = []
    defined: dict[str, object] = {}

    def fail(reason: str):
        raise EncoderNotCarried(
            f"cannot carry encoder type {encoder_types[0]!r} (class {cls.__qualname__} from {where}) into the saved "
            f"folder for trust_remote_code loading: {reason}. Define the encoder in a .py file, using only modules, "
            "classes and functions importable by name (torch, ...), DEAR's own classes, literal constants and "
            "functions or classes of that file; or load the folder without trust_remote_code in a process that "
            "imports the class first"
        )

    def bind(name: str, value, user: str) -> None:
        if name in imports or name in defined:
            if name in defined and defined[name] is not value:
                fail(f"two different objects are both called {name!r}")
            return
        if inspect.ismodule(value):
            if value.__name__ == package or value.__name__.startswith(package + "."):
                fail(f"{user} uses the module {value.__name__} as {name!r}; import the names it needs from it instead")
            imports[name] = f"import {value.__name__}" + ("" if name == value.__name__ else f" as {name}")
            return
        value_module, qualname = getattr(value, "__module__", None), getattr(value, "__qualname__", None)
        if (inspect.isclass(value) or inspect.isfunction(value)) and value_module == cls.__module__:
            define(value, name)
            return
        if isinstance(value_module, str) and isinstance(qualname, str) and callable(value):
            alias = "" if name == qualname else f" as {name}"
            if value_module == package or value_module.startswith(package + "."):
                submodule = value_module[len(package) + 1 :]
                if submodule not in carried:
                    fail(f"{user} uses {qualname} from {value_module}, a module that saved folders do not carry")
                imports[name] = f"from .{submodule} import {qualname}{alias}"
                return
            if (
                "." not in qualname
                and value_module != "__main__"
                and getattr(sys.modules.get(value_module), qualname, None) is value
            ):
                imports[name] = f"from {value_module} import {qualname}{alias}"
                return
        if _is_literal(value):
            defined[name] = value
            definitions.append(f"{name} = {value!r}")
            return
        fail(
            f"{user} reads the global {name!r}, a {type(value).__name__} that is neither importable by name nor a literal"
        )

    def define(obj, name: str) -> None:
        defined[name] = obj  # first, so that a definition that refers to itself or back does not recurse forever
        try:
            source = textwrap.dedent(inspect.getsource(obj))
        except (OSError, TypeError) as error:
            fail(f"the source of {obj.__qualname__} is not available ({error})")
        node = ast.parse(source).body[0]
        # the registration is written once, at the end; other decorators stay
        node.decorator_list = [d for d in node.decorator_list if not _is_register_encoder_call(d)]
        namespace = vars(sys.modules[obj.__module__])
        for global_name in _global_names(node):
            if global_name == obj.__name__:
                continue
            if global_name in namespace:
                bind(global_name, namespace[global_name], obj.__qualname__)
            elif not hasattr(builtins, global_name):
                fail(f"{obj.__qualname__} reads {global_name!r}, which its module does not define")
        lines = source.splitlines()
        decorators = [f"@{ast.get_source_segment(source, d)}" for d in node.decorator_list]
        definitions.append("\n".join([*decorators, *lines[node.lineno - 1 : node.end_lineno]]))
        if name != obj.__name__:
            definitions.append(f"{name} = {obj.__name__}")

    define(cls, cls.__name__)
    registrations = "\n".join(f"_register_encoder({encoder_type!r})({cls.__name__})" for encoder_type in encoder_types)
    docstring = textwrap.fill(
        f"Encoder type{'s' if len(encoder_types) > 1 else ''} {', '.join(map(repr, encoder_types))} of this model (class {cls.__qualname__} from {where}), "
        "which is not part of the DEAR package: copied here by save_pretrained with what it uses, so that this folder "
        "loads with trust_remote_code=True where that file is not importable. Change the original and save the model "
        "again rather than editing this copy.",
        width=116,
    )
    ordered = sorted(imports.values(), key=lambda line: (line.startswith("from ."), line.startswith("from "), line))
    return (
        f'"""{docstring}"""\n\nfrom __future__ import annotations\n\n'
        + "".join(f"{line}\n" for line in ordered)
        + "from .modeling_encoders import register_encoder as _register_encoder\n\n\n"
        + "\n\n\n".join(definitions)
        + f"\n\n\n{registrations}\n"
    )


def save_custom_encoders(config, folder, model_module: str = "modeling_dear") -> str | None:
    """Write the encoder classes of `config` that are not DEAR's own into `folder` (see `encoder_module_source`),
    with a `modeling_dear_custom.py` that imports them, then the model classes of `model_module`; point `auto_map`
    of `folder/config.json` at it. Returns that module's name, or None when every encoder is DEAR's own.

    Raises `EncoderNotCarried` (a `ValueError`) naming the encoder type and the fix when a class cannot be carried."""
    folder = Path(folder)
    for stale in [*folder.glob(f"{CUSTOM_ENCODER_PREFIX}*.py"), folder / f"{CUSTOM_MODELING_MODULE}.py"]:
        stale.unlink(missing_ok=True)  # from an earlier save of another model into the same folder
    classes = custom_encoder_classes(config)
    if not classes:
        return None
    carried = {path.stem for path in folder.glob("*.py")}
    written = []
    for cls, encoder_types in classes.items():
        module_name = CUSTOM_ENCODER_PREFIX + re.sub(r"\W", "_", encoder_types[0])
        source = encoder_module_source(cls, encoder_types, carried)
        written.append((module_name, cls.__name__, encoder_types, source))
    config_file = folder / "config.json"
    saved = json.loads(config_file.read_text(encoding="utf-8"))
    auto_map = saved.get("auto_map") or {}
    model_classes = sorted({ref.split(".", 1)[1] for ref in auto_map.values() if ref.startswith(model_module + ".")})
    # each file whole or not at all: config.json is rewritten in place, and a kill mid-write must not truncate it
    for module_name, _, _, source in written:
        write_atomic(folder / f"{module_name}.py", lambda path, text=source: path.write_text(text, encoding="utf-8"))
    custom_modeling = (
        '"""The model classes of this folder, imported after its encoders that are not part of the DEAR package are\n'
        'registered: config.json\'s auto_map names the model classes through this module."""\n\n'
        + "".join(
            f"from .{module_name} import {class_name}  # noqa: F401 (registers {', '.join(map(repr, types))})\n"
            for module_name, class_name, types, _ in written
        )
        + (f"from .{model_module} import {', '.join(model_classes)}  # noqa: F401\n" if model_classes else "")
    )
    write_atomic(
        folder / f"{CUSTOM_MODELING_MODULE}.py", lambda path: path.write_text(custom_modeling, encoding="utf-8")
    )
    saved["auto_map"] = {
        key: f"{CUSTOM_MODELING_MODULE}.{ref.split('.', 1)[1]}" if ref.startswith(model_module + ".") else ref
        for key, ref in auto_map.items()
    }
    text = json.dumps(saved, indent=2, sort_keys=True) + "\n"
    write_atomic(config_file, lambda path: path.write_text(text, encoding="utf-8"))
    return CUSTOM_MODELING_MODULE


__all__ = [
    "DearEncoder",
    "DearEncoderOutput",
    "ENCODER_TYPES",
    "register_encoder",
    "build_encoder",
    "save_custom_encoders",
]
