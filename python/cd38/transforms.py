"""Scale transforms, exactly as Gating-ML 2.0 defines them (plus FlowJo's biex and
the plain arcsinh of mass cytometry). Each class validates its parameters and
runs its kernel in the Rust core on numpy arrays.

All Gating-ML transforms map the top of scale ``T`` to 1. ``Logicle`` and
``Hyperlog`` are odd-symmetric about their zero point, so values far below zero
are well defined.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from cd38 import _core
from cd38.errors import InvalidArgumentError

__all__ = [
    "Arcsinh",
    "Asinh",
    "FlowJoBiex",
    "Hyperlog",
    "Linear",
    "Log",
    "Logicle",
    "Ratio",
    "Transform",
]


def _finite(name: str, value: float) -> float:
    v = float(value)
    if not math.isfinite(v):
        raise InvalidArgumentError(f"{name} must be a finite number, not {value!r}")
    return v


class Transform:
    """Base class: a named, parameterised, invertible scale transform."""

    kind: ClassVar[str]
    params: ClassVar[tuple[str, ...]]

    def __init__(self, **values: float) -> None:
        for name in self.params:
            object.__setattr__(self, name, _finite(name, values[name]))
        # The core validates parameters, so Python and Rust agree on what is legal.
        _core.transform_check(self.kind, self._values())

    def _values(self) -> list[float]:
        return [float(getattr(self, p)) for p in self.params]

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    @staticmethod
    def _array(values: npt.ArrayLike) -> npt.NDArray[np.float64]:
        return np.ascontiguousarray(values, dtype=np.float64)

    def apply(self, values: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Transform values (any shape) to the display scale."""
        a = self._array(values)
        return _core.transform_apply(self.kind, self._values(), a.ravel(), False).reshape(a.shape)

    def inverse(self, values: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Map display-scale values back to data values."""
        a = self._array(values)
        return _core.transform_apply(self.kind, self._values(), a.ravel(), True).reshape(a.shape)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **{p: getattr(self, p) for p in self.params}}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Transform:
        kinds = {c.kind: c for c in (Linear, Log, Asinh, Logicle, Hyperlog, FlowJoBiex, Arcsinh)}
        try:
            sub = kinds[d["kind"]]
        except KeyError:
            raise InvalidArgumentError(f"unknown transform kind {d.get('kind')!r}") from None
        return sub(**{p: d[p] for p in sub.params})

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Transform) and type(other) is type(self) and self._values() == other._values()
        )

    def __hash__(self) -> int:
        return hash((self.kind, *self._values()))

    def __repr__(self) -> str:
        args = ", ".join(f"{p}={getattr(self, p):g}" for p in self.params)
        return f"{type(self).__name__}({args})"


class Linear(Transform):
    """Gating-ML ``flin``: ``(x + A) / (T + A)``."""

    kind = "flin"
    params = ("t", "a")
    t: float
    a: float

    def __init__(self, t: float, a: float = 0.0) -> None:
        super().__init__(t=t, a=a)


class Log(Transform):
    """Gating-ML ``flog``: ``log10(x / T) / M + 1``; NaN for x <= 0 (never in a gate)."""

    kind = "flog"
    params = ("t", "m")
    t: float
    m: float

    def __init__(self, t: float, m: float) -> None:
        super().__init__(t=t, m=m)


class Asinh(Transform):
    """Gating-ML ``fasinh``: ``(asinh(x sinh(M ln10) / T) + A ln10) / ((M + A) ln10)``."""

    kind = "fasinh"
    params = ("t", "m", "a")
    t: float
    m: float
    a: float

    def __init__(self, t: float, m: float, a: float = 0.0) -> None:
        super().__init__(t=t, m=m, a=a)


class Logicle(Transform):
    """Gating-ML ``logicle`` (Parks, Roederer & Moore 2006): linear near zero,
    logarithmic at the top; ``T`` top of scale, ``W`` linearisation width in
    decades, ``M`` decades, ``A`` extra negative decades."""

    kind = "logicle"
    params = ("t", "w", "m", "a")
    t: float
    w: float
    m: float
    a: float

    def __init__(self, t: float = 262144.0, w: float = 0.5, m: float = 4.5, a: float = 0.0) -> None:
        super().__init__(t=t, w=w, m=m, a=a)


class Hyperlog(Transform):
    """Gating-ML ``hyperlog`` (Bagwell 2005), parameterised like ``Logicle``."""

    kind = "hyperlog"
    params = ("t", "w", "m", "a")
    t: float
    w: float
    m: float
    a: float

    def __init__(self, t: float = 262144.0, w: float = 0.5, m: float = 4.5, a: float = 0.0) -> None:
        super().__init__(t=t, w=w, m=m, a=a)


class FlowJoBiex(Transform):
    """FlowJo's biexponential ("biex") scale with FlowJo's own parameters:
    ``width`` (the width basis, negative, e.g. -10), ``negative`` and ``positive``
    decades and ``max_value`` (top of scale)."""

    kind = "flowjo_biex"
    params = ("width", "negative", "positive", "max_value")
    width: float
    negative: float
    positive: float
    max_value: float

    def __init__(
        self,
        width: float = -10.0,
        negative: float = 0.0,
        positive: float = 4.418540,
        max_value: float = 262144.0,
    ) -> None:
        super().__init__(width=width, negative=negative, positive=positive, max_value=max_value)


class Arcsinh(Transform):
    """``asinh(x / cofactor)``, the usual scale of mass and spectral cytometry."""

    kind = "arcsinh"
    params = ("cofactor",)
    cofactor: float

    def __init__(self, cofactor: float = 5.0) -> None:
        super().__init__(cofactor=cofactor)


class Ratio:
    """Gating-ML ``fratio`` of two channels: ``A (x1 - B) / (x2 - C)``.

    Not a one-input transform: it makes a new dimension from ``numerator`` and
    ``denominator`` (``$PnN`` names, or fluorochrome names when compensated by a
    spectrum matrix).
    """

    kind = "fratio"

    def __init__(self, numerator: str, denominator: str, a: float = 1.0, b: float = 0.0, c: float = 0.0):
        self.numerator = str(numerator)
        self.denominator = str(denominator)
        self.a = _finite("a", a)
        self.b = _finite("b", b)
        self.c = _finite("c", c)

    def apply(self, x1: npt.ArrayLike, x2: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """``A (x1 - B) / (x2 - C)``; a zero denominator gives +-inf or NaN, as IEEE says."""
        n = np.asarray(x1, dtype=np.float64)
        d = np.asarray(x2, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            out: npt.NDArray[np.float64] = self.a * (n - self.b) / (d - self.c)
        return out

    def _key(self) -> tuple[str, str, float, float, float]:
        return (self.numerator, self.denominator, self.a, self.b, self.c)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Ratio) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"Ratio({self.numerator!r}, {self.denominator!r}, a={self.a:g}, b={self.b:g}, c={self.c:g})"
