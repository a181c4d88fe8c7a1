"""The cd38 exception hierarchy. Every error cd38 raises on purpose is a `Cd38Error`."""

from __future__ import annotations

__all__ = [
    "Cd38Error",
    "CompensationError",
    "FCSError",
    "GatingError",
    "GatingMLError",
    "InternalError",
    "InvalidArgumentError",
]


class Cd38Error(Exception):
    """Base class of every cd38 error."""


class FCSError(Cd38Error, ValueError):
    """A malformed, truncated, hostile or unsupported FCS file.

    The message names the file and the keyword or byte offset at fault.
    """


class InvalidArgumentError(Cd38Error, ValueError):
    """An argument that the operation cannot accept."""


class CompensationError(Cd38Error, ValueError):
    """A spillover matrix that cannot be used (unknown detector, wrong shape, singular)."""


class InternalError(Cd38Error, RuntimeError):
    """A bug in cd38 caught before it could crash the interpreter; please report it."""


class GatingMLError(Cd38Error, ValueError):
    """A Gating-ML document that is malformed, unsafe or unsupported; the message names the element."""


class GatingError(Cd38Error, ValueError):
    """A strategy that cannot be applied to a sample (a channel or matrix it needs is missing)."""
