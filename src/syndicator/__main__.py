"""Run the command line as ``python -m syndicator``."""

from syndicator.cli import main

main()
