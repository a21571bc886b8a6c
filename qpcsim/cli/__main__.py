"""``python -m qpcsim.cli``: the qpcsim command."""
import sys

from . import main

sys.exit(main())
