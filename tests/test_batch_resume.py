"""A batch killed part-way (SIGKILL, no chance to clean up) and rerun ends complete
and identical to an uninterrupted run, reusing the samples finished before the kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_batch_support import assert_same_dataset, make_inputs, manifests, strategy

import cd38

N_GOOD = 10


def _kill_after_first_manifest(cmd: list[str], out: Path, timeout: float = 120.0) -> int:
    """Start ``cmd``; SIGKILL its process group as soon as one sample is complete."""
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + timeout
        while not any((out / "manifests").glob("*.json")):
            if proc.poll() is not None:
                pytest.fail(f"the batch ended before it could be interrupted: {proc.stderr.read()!r}")  # type: ignore[union-attr]
            if time.monotonic() > deadline:
                pytest.fail("no sample completed in time")
            time.sleep(0.002)
        os.killpg(proc.pid, signal.SIGKILL)
        return proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        proc.stderr.close()  # type: ignore[union-attr]


def test_killed_run_resumes_to_the_same_result(tmp_path: Path) -> None:
    inputs = make_inputs(tmp_path / "in", n_good=N_GOOD, n_events=30_000)
    xml = tmp_path / "strategy.xml"
    xml.write_text(strategy().to_gatingml())
    ref = cd38.batch.run(inputs.glob, strategy(), out=tmp_path / "ref", executor="threads", progress=False)
    assert (ref.n_done, ref.n_failed) == (N_GOOD, 2)

    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "cd38.batch", inputs.glob, "--gatingml", str(xml), "--out", str(out)]
    code = _kill_after_first_manifest([*cmd, "--workers", "1", "--quiet"], out)
    assert code == -signal.SIGKILL
    done_before = set(manifests(out))
    assert 1 <= len(done_before) < N_GOOD, "the kill came after the batch had finished"
    assert not (out / "failures.parquet").exists()  # the run never got to its end

    # what the kill left is never mistaken for a result
    partial = cd38.batch.read(out, "counts")
    assert {f"{s}.json" for s in partial["sample"].unique()} == done_before

    again = cd38.batch.run(inputs.glob, strategy(), out=out, executor="threads", progress=False)
    assert again.n_skipped == len(done_before)
    assert again.n_done == N_GOOD - len(done_before)
    assert again.n_failed == 2
    assert set(again.samples.filter(again.samples["status"] == "skipped")["sample"]) == {
        name.removesuffix(".json") for name in done_before
    }
    assert_same_dataset(out, tmp_path / "ref")
    assert not any((out / ".staging").glob("*"))

    # the command line reruns with nothing left to do; exit 1 because two files still fail
    rerun = subprocess.run([*cmd, "--quiet"], capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 1, rerun.stderr
    assert "corrupt.fcs" in rerun.stderr
    assert_same_dataset(out, tmp_path / "ref")
