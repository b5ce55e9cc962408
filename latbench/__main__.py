"""``python -m latbench``: the ``latbench`` command."""

import sys

try:
    from latbench.cli import main
except KeyboardInterrupt:  # Ctrl-C before the entry point exists
    print("latbench: interrupted", file=sys.stderr)
    sys.exit(130)
sys.exit(main())
