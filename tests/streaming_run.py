# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""Run a training script and record, per process, the `video_id`s its training collator receives, in order: for
tests/test_training_any_dataset.py, under `accelerate launch`.

    accelerate launch --config_file configuration/accelerate/multi_cpu_2.yaml tests/streaming_run.py RECORDS \\
        examples/run_video_classification.py --streaming ...

Each process writes `RECORDS/rank<RANK>.json` after every training batch.
"""

import json
import os
import runpy
import sys
from pathlib import Path

from modeling_dear.training.collator import VideoCollator

records, script = Path(sys.argv[1]), sys.argv[2]
record = records / f"rank{os.environ.get('RANK', '0')}.json"
seen: list[str] = []
collate = VideoCollator.__call__


def recording_call(self, rows):
    if self.mode == "train":
        seen.extend(str(row.get("video_id")) for row in rows)
        record.write_text(json.dumps(seen))
    return collate(self, rows)


VideoCollator.__call__ = recording_call
sys.argv = [script, *sys.argv[3:]]
runpy.run_path(script, run_name="__main__")
