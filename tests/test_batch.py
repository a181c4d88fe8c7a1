"""cd38.batch on this machine: outputs, failure isolation, resume, atomicity."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import blake3
import polars as pl
import pytest
from test_batch_support import (
    Inputs,
    assert_same_dataset,
    cd5_panel,
    crashing_panel,
    dataset,
    make_inputs,
    manifests,
    strategy,
)

import cd38
from cd38.batch._files import expand_inputs, sample_ids
from cd38.batch._local import rayon_threads
from cd38.errors import Cd38Error, InvalidArgumentError


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Inputs:
    return make_inputs(tmp_path_factory.mktemp("batch_in"))


@pytest.fixture(scope="module")
def threaded(inputs: Inputs, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    """One reference run (threads), shared by the read-only checks."""
    out = tmp_path_factory.mktemp("batch_ref")
    summary = cd38.batch.run(inputs.glob, strategy(), out=out, executor="threads", workers=2, progress=False)
    return summary, out


def test_summary_and_failures(threaded: tuple[Any, Path], inputs: Inputs) -> None:
    summary, out = threaded
    assert (summary.n_files, summary.n_done, summary.n_failed, summary.n_skipped) == (6, 4, 2, 0)
    assert not summary.ok
    fails = {r["sample"]: r for r in pl.read_parquet(out / "failures.parquet").iter_rows(named=True)}
    assert set(fails) == {"corrupt.fcs", "no_cd5.fcs"}
    assert fails["corrupt.fcs"]["error_class"] == "FCSError"
    assert fails["no_cd5.fcs"]["error_class"] == "GatingError"
    for r in fails.values():
        assert Path(r["file"]).name in r["message"]
    assert summary.failures.equals(pl.read_parquet(out / "failures.parquet"))
    assert summary.events == 4 * 20_000
    assert summary.samples.filter(pl.col("status") == "done")["n_events"].to_list() == [20_000] * 4


def test_tables_match_single_file_api(threaded: tuple[Any, Path], inputs: Inputs) -> None:
    _, out = threaded
    counts, stats = cd38.batch.read(out, "counts"), cd38.batch.read(out, "stats")
    assert sorted(set(counts["sample"])) == [p.name for p in inputs.good]
    st = strategy()
    for path in inputs.good:
        result = st.gate(cd38.read_fcs(path))
        assert counts.filter(pl.col("sample") == path.name).equals(result.counts_table())
        assert stats.filter(pl.col("sample") == path.name).equals(result.stats())


def test_layout_and_manifests(threaded: tuple[Any, Path], inputs: Inputs) -> None:
    _, out = threaded
    for path in inputs.good:
        for table in ("counts", "stats"):
            assert (out / table / f"sample={path.name}" / "part.parquet").is_file()
    assert not (out / "counts" / "sample=corrupt.fcs").exists()
    docs = manifests(out)
    assert sorted(docs) == [f"{p.name}.json" for p in inputs.good]
    doc = docs["s00.fcs.json"]
    assert doc["file_blake3"] == cd38.batch._work.file_blake3(inputs.good[0])
    assert doc["file_blake3"] == blake3.blake3(Path(inputs.good[0]).read_bytes()).hexdigest()
    assert doc["strategy_sha256"] == strategy().hash()
    assert doc["cd38_version"] == cd38.__version__
    assert doc["tables"] == ["counts", "stats"]
    # polars reads the Hive layout directly, the sample coming from the directory names
    direct = pl.read_parquet(out / "counts")
    assert sorted(direct["sample"].unique()) == [p.name for p in inputs.good]
    index = pl.read_parquet(out / "samples.parquet")
    assert index["sample"].to_list() == [p.name for p in inputs.good]
    assert not any((out / ".staging").glob("*"))


def test_processes_threads_and_serial_are_identical(
    threaded: tuple[Any, Path], inputs: Inputs, tmp_path: Path
) -> None:
    _, ref = threaded
    for name, kw in {"procs": {"workers": 2}, "serial": {"workers": 1}}.items():
        summary = cd38.batch.run(inputs.glob, strategy(), out=tmp_path / name, progress=False, **kw)
        assert summary.n_done == 4
        assert_same_dataset(ref, tmp_path / name)


def test_resume_skips_done_files_and_retries_failed(inputs: Inputs, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    shutil.copytree(inputs.folder, folder)
    out = tmp_path / "out"
    first = cd38.batch.run(folder, strategy(), out=out, executor="threads", progress=False)
    before = dataset(out)
    again = cd38.batch.run(folder, strategy(), out=out, executor="threads", progress=False)
    assert (again.n_done, again.n_skipped, again.n_failed) == (0, 4, 2)
    assert_dataset_equals(before, out)
    # a changed file is recomputed; the others are still reused
    cd38.synth.bcell_sample(folder / "s02.fcs", 20_000, seed=99, keep_labels=False)
    changed = cd38.batch.run(folder, strategy(), out=out, executor="threads", progress=False)
    assert changed.samples.filter(pl.col("status") == "done")["sample"].to_list() == ["s02.fcs"]
    assert manifests(out)["s02.fcs.json"]["file_blake3"] == cd38.batch._work.file_blake3(folder / "s02.fcs")
    # other statistics: another job, so everything is recomputed
    more = cd38.batch.run(folder, strategy(), out=out, stats=["median"], executor="threads", progress=False)
    assert more.n_done == 4
    assert set(cd38.batch.read(out, "stats")["statistic"]) == {"median"}
    # the same bytes under another folder are the same result
    moved = tmp_path / "moved"
    shutil.copytree(folder, moved)
    same = cd38.batch.run(moved, strategy(), out=out, stats=["median"], executor="threads", progress=False)
    assert same.n_skipped == 4
    assert manifests(out)["s00.fcs.json"]["file"] == str(moved / "s00.fcs")
    forced = cd38.batch.run(
        folder, strategy(), out=out, stats=["median"], force=True, progress=False, workers=1
    )
    assert forced.n_done == 4 and first.n_done == 4


def assert_dataset_equals(tables: dict[str, pl.DataFrame], out: Path) -> None:
    now = dataset(out)
    for name, df in tables.items():
        assert now[name].equals(df), name


def test_a_file_that_now_fails_loses_its_old_results(inputs: Inputs, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(inputs.good[0], folder / "a.fcs")
    shutil.copy(inputs.good[1], folder / "b.fcs")
    out = tmp_path / "out"
    cd38.batch.run(folder, strategy(), out=out, executor="threads", progress=False)
    (folder / "b.fcs").write_bytes(b"not an FCS file at all")
    s = cd38.batch.run(folder, strategy(), out=out, executor="threads", progress=False)
    assert s.failures["sample"].to_list() == ["b.fcs"]
    assert set(cd38.batch.read(out, "counts")["sample"]) == {"a.fcs"}
    assert not (out / "counts" / "sample=b.fcs").exists()


def test_incomplete_samples_are_recomputed_and_never_read(inputs: Inputs, tmp_path: Path) -> None:
    out = tmp_path / "out"
    cd38.batch.run(inputs.good, strategy(), out=out, executor="threads", progress=False)
    ref = dataset(out)
    # as a run killed between a sample's partitions and its manifest leaves it:
    (out / "manifests" / "s01.fcs.json").unlink()
    (out / "stats" / "sample=s01.fcs" / "part.parquet").write_bytes(b"half a parquet file")
    # ... and a temporary file it never renamed
    (out / ".staging").mkdir(exist_ok=True)
    (out / ".staging" / "part.parquet.x.tmp").write_bytes(b"junk")
    assert "s01.fcs" not in set(cd38.batch.read(out, "counts")["sample"])
    s = cd38.batch.run(inputs.good, strategy(), out=out, executor="threads", progress=False)
    assert s.samples.filter(pl.col("status") == "done")["sample"].to_list() == ["s01.fcs"]
    assert_dataset_equals(ref, out)
    assert not any((out / ".staging").glob("*"))


def test_unreadable_manifest_means_recompute(inputs: Inputs, tmp_path: Path) -> None:
    out = tmp_path / "out"
    cd38.batch.run(inputs.good[:2], strategy(), out=out, executor="threads", progress=False)
    (out / "manifests" / "s00.fcs.json").write_text("{not json")
    s = cd38.batch.run(inputs.good[:2], strategy(), out=out, executor="threads", progress=False)
    assert (s.n_done, s.n_skipped) == (1, 1)
    assert json.loads((out / "manifests" / "s00.fcs.json").read_text())["sample"] == "s00.fcs"


def test_orphan_partitions_are_removed(inputs: Inputs, tmp_path: Path) -> None:
    out = tmp_path / "out"
    orphan = out / "counts" / "sample=gone.fcs"
    orphan.mkdir(parents=True)
    (orphan / "part.parquet").write_bytes(b"x")
    cd38.batch.run(inputs.good[:1], strategy(), out=out, executor="threads", progress=False)
    assert not orphan.exists()
    pl.read_parquet(out / "counts")  # the directory reads cleanly


def test_repeated_names_get_unique_sample_ids(inputs: Inputs, tmp_path: Path) -> None:
    for plate in ("plate1", "plate 2"):
        (tmp_path / plate).mkdir()
        shutil.copy(inputs.good[0], tmp_path / plate / "A1.fcs")
    out = tmp_path / "out"
    s = cd38.batch.run(
        str(tmp_path / "*" / "A1.fcs"), strategy(), out=out, executor="threads", progress=False
    )
    assert s.samples["sample"].to_list() == ["plate 2/A1.fcs", "plate1/A1.fcs"]
    assert (out / "counts" / "sample=plate%202%2FA1.fcs" / "part.parquet").is_file()
    assert sorted(pl.read_parquet(out / "counts")["sample"].unique()) == ["plate 2/A1.fcs", "plate1/A1.fcs"]
    assert sorted(cd38.batch.read(out)["sample"].unique()) == ["plate 2/A1.fcs", "plate1/A1.fcs"]


def test_panel_callable_and_missing_marker(inputs: Inputs, tmp_path: Path) -> None:
    out = tmp_path / "out"
    s = cd38.batch.run(
        inputs.glob, cd5_panel, panel_options={"require": "CD5"}, out=out, executor="threads", progress=False
    )
    fails = dict(zip(s.failures["sample"], s.failures["error_class"], strict=True))
    assert fails == {"corrupt.fcs": "FCSError", "no_cd5.fcs": "InvalidArgumentError"}
    doc = manifests(out)["s00.fcs.json"]
    assert doc["panel"]["panel"] == "test_batch_support.cd5_panel"
    assert doc["strategy_sha256"] == strategy().hash()
    # the job key follows the panel's options
    s2 = cd38.batch.run(
        inputs.glob, cd5_panel, panel_options={"require": "CD19"}, out=out, executor="threads", progress=False
    )
    assert s2.n_skipped == 0 and s2.n_done == 4


def test_worker_crash_fails_only_that_file(inputs: Inputs, tmp_path: Path) -> None:
    s = cd38.batch.run(
        inputs.good[:3],
        crashing_panel,
        panel_options={"crash_on": "s01.fcs"},
        out=tmp_path / "out",
        workers=2,
        progress=False,
    )
    assert s.failures["sample"].to_list() == ["s01.fcs"]
    assert s.failures["error_class"].to_list() == ["WorkerCrashed"]
    assert s.n_done == 2


def test_interpretations(inputs: Inputs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The contexts path, with a stand-in for cd38.interpret (same contract)."""

    class Found:
        def __init__(self, context: str, subject: Any, b: int) -> None:
            self.d = {"context": context, "subject": subject, "b_cells": b}

        def to_dict(self) -> dict[str, Any]:
            return self.d

    def interpret(result: cd38.GatingResult, *, context: str, subject: Any = None) -> Found:
        if context == "picky" and result.count("b_cells") < 5000:
            raise InvalidArgumentError("too few B cells for this context")
        return Found(context, subject, result.count("b_cells"))

    monkeypatch.setattr(cd38, "interpret", interpret, raising=False)
    from cd38 import contexts as registry

    monkeypatch.setattr(registry, "available", lambda: ["any", "picky"])
    out = tmp_path / "out"
    subjects = {"s00": "subject-A", "s01.fcs": "subject-B"}
    s = cd38.batch.run(
        inputs.good[:2],
        strategy(),
        contexts=["any", "picky"],
        subjects=subjects,
        out=out,
        executor="threads",
        progress=False,
    )
    assert s.ok
    it = cd38.batch.read(out, "interpretations").sort("sample", "context")
    assert it["context"].to_list() == ["any", "picky"] * 2
    first = json.loads(it["interpretation"][0])
    assert first["subject"] == "subject-A"
    b = {p.name: strategy().gate(cd38.read_fcs(p)).count("b_cells") for p in inputs.good[:2]}
    assert first["b_cells"] == b["s00.fcs"]
    expect_status = [
        "ok",
        "ok" if b["s00.fcs"] >= 5000 else "refused",
        "ok",
        "ok" if b["s01.fcs"] >= 5000 else "refused",
    ]
    assert it["status"].to_list() == expect_status
    assert "refused" in expect_status  # the fixture has a sample with few B cells
    # the subject is part of the job: a new subject recomputes that sample only
    subjects["s00"] = "subject-C"
    s2 = cd38.batch.run(
        inputs.good[:2],
        strategy(),
        contexts=["any", "picky"],
        subjects=subjects,
        out=out,
        executor="threads",
        progress=False,
    )
    assert s2.samples.filter(pl.col("status") == "done")["sample"].to_list() == ["s00.fcs"]
    # without contexts the interpretations partitions go
    cd38.batch.run(inputs.good[:2], strategy(), out=out, executor="threads", progress=False)
    assert cd38.batch.read(out, "interpretations").is_empty()


def test_real_contexts_with_the_bcell_panel(inputs: Inputs, tmp_path: Path) -> None:
    from cd38.subject import Subject

    subjects = {"s00": Subject(age_years=60, diagnosis="CLL"), "s01.fcs": Subject(age_years=40)}
    out = tmp_path / "out"
    s = cd38.batch.run(
        inputs.good[:2], "bcell", contexts=["general", "cll"], subjects=subjects, out=out,
        executor="threads", progress=False,
    )  # fmt: skip
    assert s.ok
    it = cd38.batch.read(out, "interpretations")
    assert it.select("sample", "context", "status").rows() == [
        (f"s0{i}.fcs", c, "ok") for i in (0, 1) for c in ("general", "cll")
    ]
    sample = cd38.read_fcs(inputs.good[0])
    direct = cd38.interpret(cd38.panels.bcell(sample).gate(sample), context="cll", subject=subjects["s00"])
    stored = it.filter((pl.col("sample") == "s00.fcs") & (pl.col("context") == "cll"))["interpretation"][0]
    assert json.loads(stored) == json.loads(json.dumps(direct.to_dict(), default=str))
    with pytest.raises(InvalidArgumentError, match="unknown context"):
        cd38.batch.run(inputs.good[:1], strategy(), contexts=["no_such_context"], out=out, progress=False)


def test_bad_arguments(inputs: Inputs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    with pytest.raises(InvalidArgumentError, match="unknown statistic"):
        cd38.batch.run(inputs.glob, strategy(), stats=["modal"], out=out)
    with pytest.raises(InvalidArgumentError, match="no files match"):
        cd38.batch.run(str(tmp_path / "*.fcs"), strategy(), out=out)
    with pytest.raises(InvalidArgumentError, match="executor"):
        cd38.batch.run(inputs.glob, strategy(), out=out, executor=object())
    with pytest.raises(InvalidArgumentError, match="executor"):
        cd38.batch.run(inputs.glob, strategy(), out=out, executor="gpu")
    with pytest.raises(InvalidArgumentError, match="unknown panel"):
        cd38.batch.run(inputs.glob, "tcell", out=out)
    with pytest.raises(InvalidArgumentError, match="workers"):
        cd38.batch.run(inputs.glob, strategy(), out=out, workers=0)
    with pytest.raises(InvalidArgumentError, match="panel_options"):
        cd38.batch.run(inputs.glob, strategy(), out=out, panel_options={"a": 1})
    monkeypatch.delattr(cd38, "interpret", raising=False)
    with pytest.raises(InvalidArgumentError, match="interpret"):
        cd38.batch.run(inputs.glob, strategy(), out=out, contexts=["cll"])
    assert isinstance(InvalidArgumentError("x"), Cd38Error)


def test_inputs_and_ids(inputs: Inputs, tmp_path: Path) -> None:
    files = expand_inputs([inputs.folder, inputs.glob, inputs.good[0]])
    assert files == inputs.all  # a directory is its .fcs files, sorted; duplicates dropped
    missing = tmp_path / "nope.fcs"
    assert expand_inputs(str(missing)) == [missing]  # becomes a recorded failure, not a stop
    assert sample_ids([Path("/a/x.fcs"), Path("/b/y.fcs")]) == ["x.fcs", "y.fcs"]
    assert sample_ids([Path("/d/a/x.fcs"), Path("/d/b/c/x.fcs")]) == ["a/x.fcs", "b/c/x.fcs"]


def test_missing_file_is_a_failure(inputs: Inputs, tmp_path: Path) -> None:
    files = [inputs.good[0], tmp_path / "nope.fcs"]
    s = cd38.batch.run(files, strategy(), out=tmp_path / "o", executor="threads", progress=False)
    assert s.failures["error_class"].to_list() == ["FileNotFoundError"]
    assert "nope.fcs" in s.failures["message"][0]


def test_rayon_threads_share_the_cores() -> None:
    assert rayon_threads(1, cores=8) == 8
    assert rayon_threads(4, cores=8) == 2
    assert rayon_threads(3, cores=8) == 2
    assert rayon_threads(16, cores=8) == 1


def test_progress_bar_draws(inputs: Inputs, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cd38.batch.run(inputs.glob, strategy(), out=tmp_path / "o", executor="threads", progress=True)
    err = capsys.readouterr().err
    assert "6/6" in err and "events/s" in err and "2 failed" in err
