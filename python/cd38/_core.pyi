# Hand-written stub of the private compiled module; checked by mypy.stubtest.
import mmap
from os import PathLike
from typing import Any, final

import numpy as np
import numpy.typing as npt

__all__ = [
    "Blake3Job",
    "Dataset",
    "FcsStreamWriter",
    "Members",
    "__version__",
    "blake3_buffer",
    "compensate",
    "file_blake3",
    "gate_events",
    "invert_matrix",
    "population_stats",
    "population_stats_members",
    "read_fcs",
    "read_fcs_all",
    "read_fcs_bytes",
    "transform_apply",
    "transform_check",
    "write_fcs",
]
__version__: str

@final
class Dataset:
    @property
    def version(self) -> str: ...
    @property
    def keywords(self) -> list[tuple[str, str]]: ...
    @property
    def channels(self) -> list[str]: ...
    @property
    def markers(self) -> list[str]: ...
    @property
    def n_events(self) -> int: ...
    @property
    def repairs(self) -> list[tuple[str, str]]: ...
    @property
    def spillover(self) -> tuple[list[str], list[float], str] | None: ...
    @property
    def encoding(self) -> str: ...
    @property
    def offset(self) -> int: ...
    @property
    def data_segment(self) -> tuple[int, int] | None: ...
    @property
    def datatypes(self) -> list[str]: ...
    @property
    def bits(self) -> list[int | None]: ...
    @property
    def time_index(self) -> int | None: ...
    @property
    def scales(self) -> list[tuple[str, list[float]] | None]: ...
    @property
    def byte_order(self) -> str | None: ...
    @property
    def zero_copy(self) -> bool: ...
    @property
    def events(self) -> npt.NDArray[Any] | None: ...

def read_fcs(
    path: str | PathLike[str], dataset: int = 0, strict: bool = False, data: str = "scale"
) -> Dataset: ...
def read_fcs_all(path: str | PathLike[str], strict: bool = False, data: str = "scale") -> list[Dataset]: ...
def read_fcs_bytes(
    buffer: bytes,
    name: str = "<bytes>",
    dataset: int = 0,
    strict: bool = False,
    data: str = "scale",
) -> Dataset: ...
def write_fcs(
    path: str | PathLike[str],
    data: npt.NDArray[np.float32] | npt.NDArray[np.float64],
    channels: list[str],
    markers: list[str],
    keywords: list[tuple[str, str]],
    datatype: str,
    bits: list[int],
    byteorder: str,
) -> int: ...
def file_blake3(path: str | PathLike[str]) -> str: ...
def blake3_buffer(data: bytes | mmap.mmap) -> str: ...

@final
class Blake3Job:
    def __new__(cls, data: bytes | mmap.mmap) -> Blake3Job: ...
    def hexdigest(self) -> str: ...

def invert_matrix(matrix: list[float], n: int) -> list[float]: ...
def compensate(
    events: npt.NDArray[np.float32] | npt.NDArray[np.float64],
    detectors: list[int],
    inverse: list[float],
) -> npt.NDArray[Any]: ...
def transform_check(kind: str, params: list[float]) -> None: ...
def transform_apply(
    kind: str, params: list[float], values: npt.NDArray[np.float64], inverse: bool
) -> npt.NDArray[np.float64]: ...
def gate_events(
    events: npt.NDArray[np.float32] | npt.NDArray[np.float64],
    comps: list[tuple[list[int], list[float]]],
    dims: list[tuple[int, int, float, float, float, bool, int | None, tuple[str, list[float]] | None]],
    nodes: list[tuple[str, int | None, list[int], list[float], list[float], list[tuple[int, bool]]]],
    scales: list[tuple[str, list[float]] | None] = ...,
) -> Members: ...

@final
class Members:
    @property
    def nodes(self) -> int: ...
    @property
    def n_events(self) -> int: ...
    def count(self, node: int) -> int: ...
    def indices(self, node: int) -> npt.NDArray[np.uint32]: ...

def population_stats_members(
    events: npt.NDArray[np.float32] | npt.NDArray[np.float64],
    members: Members,
    nodes: list[int],
    columns: list[int],
    stats: list[str],
    percentiles: list[float],
    scales: list[tuple[str, list[float]] | None] = ...,
) -> npt.NDArray[np.float64]: ...
def population_stats(
    events: npt.NDArray[np.float32] | npt.NDArray[np.float64],
    populations: list[npt.NDArray[np.uint32] | None],
    columns: list[int],
    stats: list[str],
    percentiles: list[float],
    scales: list[tuple[str, list[float]] | None] = ...,
) -> npt.NDArray[np.float64]: ...

@final
class FcsStreamWriter:
    def __new__(
        cls,
        path: str | PathLike[str],
        channels: list[str],
        markers: list[str],
        keywords: list[tuple[str, str]],
        datatype: str,
        bits: list[int],
        byteorder: str,
        n_events: int,
    ) -> FcsStreamWriter: ...
    def write(self, data: npt.NDArray[np.float32] | npt.NDArray[np.float64]) -> None: ...
    def finish(self) -> int: ...
    def abort(self) -> None: ...
