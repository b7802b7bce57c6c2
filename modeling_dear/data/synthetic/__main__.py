# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""`python -m modeling_dear.data.synthetic`: see `command_line`."""

import sys

from .command_line import main

sys.exit(main())
