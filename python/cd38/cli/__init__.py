"""The ``cd38`` command line (also ``python -m cd38``)."""

from cd38.cli.app import main

__all__ = ["main"]
