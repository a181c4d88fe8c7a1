"""cd38.batch on a real Dask cluster (LocalCluster, 2 worker processes on loopback):
the same dataset as a local run, corrupt and incomplete files included."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from test_batch_support import Inputs, assert_same_dataset, make_inputs, strategy

import cd38
from cd38.cli.batch_cmd import batch

distributed = pytest.importorskip("distributed", reason="Dask is optional: pip install 'cd38[dask]'")


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Inputs:
    return make_inputs(tmp_path_factory.mktemp("dask_in"))


def test_dask_run_equals_local_run(client: Any, inputs: Inputs, tmp_path: Path) -> None:
    kw = {"contexts": ["general"], "progress": False}
    local = cd38.batch.run(inputs.glob, strategy(), out=tmp_path / "local", workers=1, **kw)
    remote = cd38.batch.run(inputs.glob, strategy(), out=tmp_path / "dask", executor=client, **kw)
    assert (remote.n_done, remote.n_failed) == (local.n_done, local.n_failed) == (4, 2)
    assert cd38.batch.read(tmp_path / "dask", "interpretations").height == 4
    assert remote.failures.drop("file").equals(local.failures.drop("file"))
    assert_same_dataset(tmp_path / "local", tmp_path / "dask")
    # the work ran on the workers, each with its Rust pool sized to its Dask threads
    expected = os.environ.get("RAYON_NUM_THREADS", "1")  # a user's own setting wins
    assert set(client.run(lambda: os.environ.get("RAYON_NUM_THREADS")).values()) == {expected}
    # and resuming works across executors: nothing is recomputed
    again = cd38.batch.run(inputs.glob, strategy(), out=tmp_path / "local", executor=client, **kw)
    assert (again.n_done, again.n_skipped, again.n_failed) == (0, 4, 2)


def test_cli_on_a_running_cluster(client: Any, inputs: Inputs, tmp_path: Path) -> None:
    xml = tmp_path / "strategy.xml"
    xml.write_text(strategy().to_gatingml())
    out = tmp_path / "cli"
    args = [inputs.glob, "--gatingml", str(xml), "--out", str(out), "--quiet"]
    res = CliRunner().invoke(batch, [*args, "--dask-scheduler", client.scheduler.address])
    assert res.exit_code == 1, res.output
    assert "corrupt.fcs" in res.stderr and "no_cd5.fcs" in res.stderr
    local = cd38.batch.run(inputs.glob, strategy(), out=tmp_path / "local", workers=1, progress=False)
    assert local.n_done == 4
    assert_same_dataset(out, tmp_path / "local")
