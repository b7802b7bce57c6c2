# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Dataset production: the SSv2 RGB-D preparation (`data.ssv2`) and the synthetic RGB-D dataset
(`data.synthetic`). Both write rows with the columns of `modeling_dear.data.schema`."""
