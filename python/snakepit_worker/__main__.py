"""``python -m snakepit_worker``: runs one worker; see cli.py."""

import sys

from .cli import main

sys.exit(main())
