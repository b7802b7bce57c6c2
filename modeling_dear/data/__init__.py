# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Dataset production: the preparation engine (`data.prepare`), which makes any video dataset a source reader
describes (`data.sources`) RGB-D, with SSv2 as one of its sources (`data.ssv2`), and the synthetic RGB-D dataset
(`data.synthetic`). All write rows with the columns of `modeling_dear.data.schema`."""
