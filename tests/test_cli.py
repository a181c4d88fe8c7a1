"""The cd38 command line, driven through click's runner and (for the entry point) a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

import cd38
from cd38 import synth
from cd38.cli import main
from cd38.gates import RectangleGate
from cd38.transforms import Logicle


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("cli")
    good = synth.bcell_sample(d / "good.fcs", 20_000, seed=11).path
    synth.bcell_sample(d / "other.fcs", 20_000, seed=12, profile="cll")
    raw = good.read_bytes()
    (d / "truncated.fcs").write_bytes(raw[: len(raw) // 3])
    (d / "garbage.fcs").write_bytes(b"this is not an FCS file at all" * 10)
    # The same events with the CD19 marker removed: no B cells can be gated.
    s = cd38.read_fcs(good)
    markers = ["" if m == "CD19" else m for m in s.markers]
    kw = {"$SPILLOVER": s.keywords["$SPILLOVER"], "$TIMESTEP": "0.01"}
    cd38.write_fcs(d / "no_cd19.fcs", np.asarray(s.to_numpy()), s.channels, markers, keywords=kw)
    st = cd38.GatingStrategy()
    lg = Logicle()
    st.add(RectangleGate("cd19pos", [cd38.Dimension("FITC-A", "FCS", lg)], [0.4], [None]))
    st.add(RectangleGate("cd38pos", [cd38.Dimension("PerCP-Cy5-5-A", "FCS", lg)], [0.6], [None]), "cd19pos")
    (d / "strategy.xml").write_text(st.to_gatingml(), "utf-8")
    bad = cd38.GatingStrategy()
    bad.add(RectangleGate("x", [cd38.Dimension("NOPE-A")], [1.0], [None]))
    (d / "needs_nope.xml").write_text(bad.to_gatingml(), "utf-8")
    (d / "measurements.toml").write_text(
        '[[measurement]]\npopulation = "clonal_cd5_cd38pos"\nvalue = 35.0\nunit = "percent_of_parent"\n'
        'gate_definition = "above_negative_control"\n',
        "utf-8",
    )
    (d / "subject.toml").write_text(
        'age_years = 67\ndiagnosis = ["cll"]\nassay_type = "leukemia_lymphoma"\n'
        'specimen_type = "peripheral_blood"\n',
        "utf-8",
    )
    (d / "bad.toml").write_text("age_years = = 3\n", "utf-8")
    return {p.stem: p for p in d.iterdir()} | {"dir": d}


def run(*args: str | Path) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


def one_line_error(stderr: str, name: str) -> None:
    lines = [ln for ln in stderr.strip().splitlines() if ln.startswith("cd38: error")]
    assert lines and name in lines[0], stderr
    assert "Traceback" not in stderr


# -- info ---------------------------------------------------------------------------------
def test_info_text_and_json(files: dict[str, Path]) -> None:
    code, out, _ = run("info", files["good"])
    assert code == 0
    assert "FCS3.1" in out and "20,000" in out and "PerCP-Cy5-5-A" in out and "CD38" in out
    code, out, _ = run("info", "--json", files["good"], files["other"])
    assert code == 0
    doc = json.loads(out)
    assert [d["events"] for d in doc] == [20_000, 20_000]
    assert doc[0]["spillover"]["detectors"][0] == "FITC-A"
    assert {"name": "APC-A", "marker": "IgM", "datatype": "F"} in doc[0]["channels"]


@pytest.mark.parametrize("name", ["missing", "truncated", "garbage", "dir"])
def test_info_bad_files_one_line_exit_1(files: dict[str, Path], name: str) -> None:
    path = files["dir"] / "missing.fcs" if name == "missing" else files[name]
    code, out, err = run("info", path)
    assert code == 1 and out == ""
    one_line_error(err, path.name)


def test_one_bad_file_does_not_stop_the_others(files: dict[str, Path]) -> None:
    code, out, err = run("info", "--json", files["truncated"], files["good"])
    assert code == 1
    assert [d["file"] for d in json.loads(out)] == [str(files["good"])]
    one_line_error(err, "truncated.fcs")


def test_debug_shows_the_traceback(files: dict[str, Path]) -> None:
    r = CliRunner().invoke(main, ["--debug", "info", str(files["garbage"])])
    assert r.exit_code == 1 and "Traceback" in r.stderr


def test_usage_errors_exit_2(files: dict[str, Path]) -> None:
    assert run("info")[0] == 2
    assert run("frobnicate")[0] == 2
    assert run("gate", files["good"], "--out", files["dir"] / "x.csv")[0] == 2  # no strategy
    code, _, err = run("gate", files["good"], "--panel", "bcell", "--out", files["dir"] / "x.xlsx")
    assert code == 2 and ".parquet or .csv" in err
    both = ("--panel", "bcell", "--gatingml", files["strategy"])
    assert run("gate", files["good"], *both, "--out", files["dir"] / "x.csv")[0] == 2
    assert (
        run("gate", files["good"], "--panel", "bcell", "--stats", "modal", "--out", files["dir"] / "x.csv")[0]
        == 2
    )


# -- gate ----------------------------------------------------------------------------------
def test_gate_panel_to_parquet(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "stats.parquet"
    code, _, err = run("gate", files["good"], files["other"], "--panel", "bcell", "--out", out)
    assert code == 0, err
    df = pl.read_parquet(out)
    counts = df.filter(pl.col("statistic") == "count")
    assert set(counts["sample"]) == {"good.fcs", "other.fcs"}
    b = counts.filter((pl.col("sample") == "good.fcs") & (pl.col("population") == "b_cells"))["value"][0]
    s = cd38.read_fcs(files["good"])
    assert b == cd38.panels.bcell(s).gate(s).count("b_cells")
    assert set(df["statistic"]) >= {"count", "pct_parent", "pct_total", "median", "mean", "cv"}
    assert set(df["cd38_gate_definition"]) == {"bright"}
    assert [p.name for p in tmp_path.iterdir()] == ["stats.parquet"]  # no temp files left


def test_gate_gatingml_to_csv(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "stats.csv"
    code, _, _ = run("gate", files["good"], "--gatingml", files["strategy"], "--stats", "", "--out", out)
    assert code == 0
    df = pl.read_csv(out)
    s = cd38.read_fcs(files["good"])
    st = cd38.GatingStrategy.from_gatingml(files["strategy"])
    want = st.gate(s).count("cd38pos")
    got = df.filter((pl.col("population") == "cd38pos") & (pl.col("statistic") == "count"))["value"][0]
    assert got == want and set(df["statistic"]) == {"count", "pct_parent", "pct_total"}


def test_gate_missing_marker_is_reported(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    code, _, err = run("gate", files["no_cd19"], "--panel", "bcell", "--stats", "", "--out", out)
    assert code == 0
    assert "no_cd19.fcs: not gated: b_cells" in err and "CD19" in err
    assert "b_cells" not in set(pl.read_csv(out)["population"])


def test_gate_strategy_channel_missing_fails_naming_file(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    code, _, err = run("gate", files["good"], "--gatingml", files["needs_nope"], "--out", out)
    assert code == 1 and not out.exists()
    one_line_error(err, "good.fcs")
    assert "NOPE-A" in err


def test_gate_partial_failure_writes_the_rest(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "s.parquet"
    code, _, err = run(
        "gate", files["garbage"], files["good"], "--panel", "bcell", "--stats", "", "--out", out
    )
    assert code == 1
    one_line_error(err, "garbage.fcs")
    assert set(pl.read_parquet(out)["sample"]) == {"good.fcs"}


# -- interpret, contexts ----------------------------------------------------------------------
def test_contexts_lists_builtins(files: dict[str, Path]) -> None:
    code, out, _ = run("contexts", "--json")
    assert code == 0
    doc = {d["name"]: d for d in json.loads(out)}
    assert {"general", "cll"} <= set(doc)
    assert doc["cll"]["builtin"] is True and doc["cll"]["version"]
    code, out, _ = run("contexts")
    assert code == 0 and "cll" in out and "built-in" in out


def test_interpret_measurements(files: dict[str, Path]) -> None:
    code, out, err = run(
        "interpret", files["measurements"], "--context", "cll", "--subject", files["subject"], "--json"
    )
    assert code == 0, err
    doc = json.loads(out)
    assert doc["context"] == "cll"
    assert doc["findings"] and all(f["citations"] for f in doc["findings"])
    code, out, _ = run("interpret", files["measurements"], "--context", "cll", "--subject", files["subject"])
    assert code == 0 and "not a diagnosis" in out.lower()


def test_interpret_refuses_without_diagnosis(files: dict[str, Path]) -> None:
    code, out, _ = run("interpret", files["measurements"], "--context", "cll", "--json")
    assert code == 0
    doc = json.loads(out)
    assert not doc["findings"] and doc["refusals"]


def test_interpret_fcs_and_table(files: dict[str, Path], tmp_path: Path) -> None:
    code, out, err = run("interpret", files["other"], "--context", "general", "--json")
    assert code == 0, err
    assert json.loads(out)["context"] == "general"
    table = tmp_path / "t.parquet"
    assert run("gate", files["good"], "--panel", "bcell", "--out", table)[0] == 0
    code, out, err = run("interpret", table, "--context", "general", "--json")
    assert code == 0, err
    assert json.loads(out)["measurements"]


def test_interpret_bad_inputs(files: dict[str, Path]) -> None:
    code, _, err = run("interpret", files["measurements"], "--context", "no_such_context")
    assert code == 1
    one_line_error(err, "no_such_context")
    code, _, err = run("interpret", files["measurements"], "--context", "cll", "--subject", files["bad"])
    assert code == 1
    one_line_error(err, "bad.toml")
    code, _, err = run("interpret", files["dir"] / "nope.toml", "--context", "cll")
    assert code == 1
    one_line_error(err, "nope.toml")
    assert run("interpret", files["strategy"], "--context", "cll")[0] == 2  # .xml is no input kind


# -- report, demo, completion ------------------------------------------------------------------
def test_report_command(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    code, _, err = run(
        "report",
        files["other"],
        "--panel",
        "bcell",
        "--context",
        "cll",
        "--subject",
        files["subject"],
        "--out",
        out,
    )
    assert code == 0, err
    html = out.read_text("utf-8")
    assert "data:image/png;base64," in html and "Interpretation" in html and "cll" in html
    code, _, err = run("report", files["truncated"], "--panel", "bcell", "--out", tmp_path / "t.html")
    assert code == 1 and not (tmp_path / "t.html").exists()
    one_line_error(err, "truncated.fcs")
    assert run("report", files["good"], "--panel", "bcell", "--out", tmp_path / "no" / "r.html")[0] == 2


def test_report_missing_file_is_named(tmp_path: Path) -> None:
    code, _, err = run("report", tmp_path / "absent.fcs", "--panel", "bcell", "--out", tmp_path / "r.html")
    assert code == 1
    one_line_error(err, "absent.fcs")


def test_outputs_never_overwrite_inputs(files: dict[str, Path], tmp_path: Path) -> None:
    fcs = tmp_path / "copy.fcs"
    fcs.write_bytes(files["good"].read_bytes())
    before = fcs.read_bytes()
    code, _, err = run("report", fcs, "--panel", "bcell", "--out", fcs)
    assert code == 2 and "is an input file" in err
    table_named_like_fcs = tmp_path / "sample.csv"
    table_named_like_fcs.write_bytes(before)
    code, _, err = run("gate", table_named_like_fcs, "--panel", "bcell", "--out", table_named_like_fcs)
    assert code == 2 and "is an input file" in err
    assert fcs.read_bytes() == before and table_named_like_fcs.read_bytes() == before


def test_demo_writes_everything(tmp_path: Path) -> None:
    code, out, err = run("demo", "--out", tmp_path / "demo", "--events", "20000")
    assert code == 0, err
    for name in ("demo_bcell.fcs", "demo_stats.parquet", "subject.toml", "report.html"):
        assert (tmp_path / "demo" / name).is_file(), name
    assert str((tmp_path / "demo" / "report.html").resolve()) in out
    assert "b_cells" in out and "cd38pos_igmneg" in out and "finding(s)" in out
    code, out, _ = run("demo", "-q", "--out", tmp_path / "demo", "--events", "20000")
    assert code == 0 and out.strip() == str((tmp_path / "demo" / "report.html").resolve())


def test_completion_scripts() -> None:
    for shell in ("bash", "zsh", "fish"):
        code, out, _ = run("completion", shell)
        assert code == 0 and "_CD38_COMPLETE" in out


def test_batch_and_anonymize_are_registered() -> None:
    assert {"batch", "anonymize"} <= set(main.commands)


# -- the real entry point ------------------------------------------------------------------------
def test_python_m_cd38(files: dict[str, Path]) -> None:
    py = sys.executable
    r = subprocess.run([py, "-m", "cd38", "--version"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and cd38.__version__ in r.stdout
    r = subprocess.run(
        [py, "-m", "cd38", "info", "--json", str(files["good"])], capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 0 and json.loads(r.stdout)[0]["events"] == 20_000
    r = subprocess.run(
        [py, "-m", "cd38", "info", str(files["garbage"])], capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "garbage.fcs" in r.stderr
    r = subprocess.run([py, "-m", "cd38", "gate"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
