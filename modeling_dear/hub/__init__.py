# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""What DEAR publishes on the Hub: model and dataset cards, each rendered from a template in `hub_cards/`."""
