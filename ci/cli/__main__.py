"""`python -m ci.cli` is `bayon`."""

import sys

from ci.cli.app import main

sys.exit(main())
