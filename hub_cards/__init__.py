# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
