# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""The one error of the SSv2 preparation that is the user's to fix: a download that is incomplete or malformed."""

from __future__ import annotations

from ..sources.base import SourceInputError


class SSv2InputError(SourceInputError):
    """The SSv2 download is incomplete or malformed. The message starts with the file at fault."""
