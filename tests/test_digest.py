"""Provenance digests: BLAKE3 of the file's bytes, however the sample was read."""

from __future__ import annotations

import os
import select
import signal
from pathlib import Path

import blake3
import numpy as np
import pytest

import cd38
from cd38._digest import blake3_buffer, blake3_in_background, file_blake3
from cd38.errors import Cd38Error
from cd38.stats import file_blake3 as sample_digest


def _file(tmp_path: Path, name: str, **kw: object) -> Path:
    d = np.random.default_rng(3).normal(1000, 300, (5000, 3)).astype(np.float32)
    return cd38.write_fcs(tmp_path / name, d, ["A", "B", "Time"], **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kw",
    [
        {},  # a zero-copy view: hashed through the sample's own mapping
        {"keywords": {"$TIMESTEP": "0.5"}},  # a view with a scaled channel
        {"byteorder": "big"},  # decoded: hashed from the file
        {"datatype": "D"},
    ],
)
def test_sample_digest_is_blake3_of_the_file(tmp_path: Path, kw: dict[str, object]) -> None:
    path = _file(tmp_path, "s.fcs", **kw)
    want = blake3.blake3(path.read_bytes()).hexdigest()
    s = cd38.read_fcs(path)
    assert sample_digest(s) == want
    assert file_blake3(path) == want
    from_bytes = cd38.read_fcs(path.read_bytes())
    assert sample_digest(from_bytes) == want


def test_compensated_sample_keeps_the_file_digest(tmp_path: Path) -> None:
    path = tmp_path / "b.fcs"
    cd38.synth.bcell_sample(path, 3000, seed=2)
    s = cd38.read_fcs(path)
    assert sample_digest(s.compensate()) == blake3.blake3(path.read_bytes()).hexdigest()


def test_buffers_and_errors(tmp_path: Path) -> None:
    assert blake3_buffer(b"") == blake3.blake3(b"").hexdigest()
    assert blake3_buffer(b"abc" * 1_000_000) == blake3.blake3(b"abc" * 1_000_000).hexdigest()
    with pytest.raises(Cd38Error):
        blake3_buffer(bytearray(b"writable"))  # type: ignore[arg-type]
    with pytest.raises(FileNotFoundError, match="missing"):
        file_blake3(tmp_path / "missing.fcs")
    with pytest.raises(IsADirectoryError):
        file_blake3(tmp_path)
    (tmp_path / "empty").write_bytes(b"")
    assert file_blake3(tmp_path / "empty") == blake3.blake3(b"").hexdigest()


@pytest.mark.parametrize("size", [0, 5, 1 << 18, (1 << 18) + 1, 3_000_017])
def test_background_digest_equals_blake3(size: int) -> None:
    data = np.random.default_rng(size).integers(0, 256, size, dtype=np.uint8).tobytes()
    job = blake3_in_background(data)  # type: ignore[arg-type]
    assert job.hexdigest() == blake3.blake3(data).hexdigest()
    assert job.hexdigest() == blake3.blake3(data).hexdigest()  # finished once, kept
    # Dropped while it may still be hashing: joins, nothing breaks.
    del job
    blake3_in_background(data)  # type: ignore[arg-type]
    with pytest.raises(Cd38Error):
        blake3_in_background(bytearray(b"writable"))  # type: ignore[arg-type]


def test_gating_hashes_the_file_in_the_background(tmp_path: Path) -> None:
    path = tmp_path / "b.fcs"
    cd38.synth.bcell_sample(path, 20_000, seed=4)
    want = blake3.blake3(path.read_bytes()).hexdigest()
    s = cd38.read_fcs(path)
    strategy = cd38.panels.bcell(s)
    result = strategy.gate(s)
    assert s._blake3_job is not None  # started by gate(), finished by the table
    table = result.stats(stats=("median",))
    assert set(table["file_blake3"]) == {want}
    assert s._blake3_job is None and s._file_blake3 == want
    # While a job holds the file's mapping, the mapping cannot be closed under it.
    s2 = cd38.read_fcs(path)
    strategy.gate(s2)
    with pytest.raises(BufferError):
        s2._map.close()  # type: ignore[union-attr]
    assert sample_digest(s2) == want


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_digest_in_a_forked_child(tmp_path: Path) -> None:
    """A child forked while read_fcs's background digest may still run has
    neither that thread nor the thread pool: it hashes on its own thread."""
    path = tmp_path / "f.fcs"
    cd38.synth.bcell_sample(path, 200_000, seed=6)
    want = blake3.blake3(path.read_bytes()).hexdigest()
    s = cd38.read_fcs(path)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child)
        try:
            os.write(w, sample_digest(s).encode())
        finally:
            os._exit(0)
    os.close(w)
    ready, _, _ = select.select([r], [], [], 30)
    got = os.read(r, 100).decode() if ready else "no answer within 30 s"
    os.close(r)
    if not ready:
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    assert got == want
    assert sample_digest(s) == want
