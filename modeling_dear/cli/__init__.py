# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""The command lines, each a console script and a `python -m` module:

    dear-train          python -m modeling_dear.cli.train           train, evaluate, test (the recipe)
    dear-predict        python -m modeling_dear.cli.predict         top-k labels of a video with a saved model
    dear-prepare-ssv2   python -m modeling_dear.cli.prepare_ssv2    build the SSv2 RGB-D dataset from a download

Each module's `main(argv=None)` returns the exit status. They are not imported here, so that `python -m` runs
each one once.
"""
