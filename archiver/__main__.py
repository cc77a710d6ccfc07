"""`python -m archiver` runs the command line."""

import sys

from archiver.cli import main

if __name__ == "__main__":
    sys.exit(main())
