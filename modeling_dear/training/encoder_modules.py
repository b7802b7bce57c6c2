# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""`--encoder_module`: import a file or module that registers encoders (`@register_encoder`), so that a config file
given as `--preset` can name their types. The recipe imports it in every process, before the model is built."""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import sys
from pathlib import Path

from ..modeling_encoders import ENCODER_TYPES
from .arguments import ArgumentError

logger = logging.getLogger(__name__)

_FIX = "register a DearEncoder subclass with @register_encoder('type_name') (README, 'Adding an encoder')"


def _import_file(value: str, path: Path):
    if not path.is_file():
        raise ArgumentError(
            f"--encoder_module {value}: no such file; give the path of a .py file that does {_FIX}, or an "
            "importable module name"
        )
    path = path.resolve()
    name = (
        path.stem
        if path.stem.isidentifier()
        else "dear_encoders_" + "".join(c if c.isalnum() else "_" for c in path.stem)
    )
    loaded = sys.modules.get(name)
    if loaded is not None and getattr(loaded, "__file__", None) and Path(loaded.__file__).resolve() == path:
        return loaded  # imported before (e.g. a second run in the same process)
    if loaded is not None:
        name = f"dear_encoders_{name}"  # another module has that name: do not replace it
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # before running it: dataclasses, pickling and the saved folder's code look it up
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _import_name(value: str):
    try:
        return importlib.import_module(value)
    except ModuleNotFoundError as error:
        if error.name is None or not value.startswith(error.name):
            raise  # the module was found; something it imports is missing
    if os.getcwd() not in sys.path:  # `accelerate launch script.py` puts the script's folder on the path, not cwd
        sys.path.append(os.getcwd())
        try:
            return importlib.import_module(value)
        except ModuleNotFoundError as error:
            if error.name is None or not value.startswith(error.name):
                raise
    raise ArgumentError(
        f"--encoder_module {value}: no module of that name can be imported (from the current folder or the Python "
        "path); give a file path such as my_encoders.py, or install the module"
    )


def import_encoder_module(value: str) -> list[str]:
    """Import `value` (a .py file path or a module name) and return the encoder types it registered; an error naming
    it when it cannot be found or registers none."""
    before = dict(ENCODER_TYPES)
    path = Path(value).expanduser()
    is_file = value.endswith(".py") or os.sep in value or path.is_file()
    module = _import_file(value, path) if is_file else _import_name(value)
    registered = sorted(
        encoder_type
        for encoder_type, cls in ENCODER_TYPES.items()
        if before.get(encoder_type) is not cls or cls.__module__ == module.__name__
    )
    if not registered:
        raise ArgumentError(f"--encoder_module {value}: imported, but it registers no encoder type: {_FIX}")
    logger.info("--encoder_module %s registered encoder type(s) %s", value, registered)
    return registered
