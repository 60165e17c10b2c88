#!/usr/bin/env python3
"""Build the manuscript: `python build.py --help` lists commands, formats and options."""

import sys

from press.cli import main

if __name__ == "__main__":
    sys.exit(main())
