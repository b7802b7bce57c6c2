"""`python -m modeling_dear.data.synthetic`: see `command_line`."""

import sys

from .command_line import main

sys.exit(main())
