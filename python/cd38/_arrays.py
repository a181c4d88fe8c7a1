"""Arrays handed to the Rust kernels: float32 or float64, C-contiguous and aligned."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt


def kernel_matrix(a: npt.ArrayLike) -> npt.NDArray[Any]:
    """``a`` itself when the kernels can read it in place, else a suitable copy.

    Alignment matters: the kernels view the memory as a slice of floats, which
    must be aligned (a zero-copy view of a file can be, at an odd DATA offset).
    """
    arr = np.asarray(a)
    if arr.dtype not in (np.float32, np.float64):
        arr = arr.astype(np.float64)
    if not (arr.flags.c_contiguous and arr.flags.aligned):
        arr = np.array(arr, order="C", copy=True)
    return arr
