"""``cd38 batch`` (the click command on its own, through CliRunner)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from test_batch_support import Inputs, assert_same_dataset, make_inputs, manifests, strategy

import cd38
from cd38.cli.batch_cmd import batch


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Inputs:
    return make_inputs(tmp_path_factory.mktemp("cli_in"), n_good=3)


@pytest.fixture(scope="module")
def xml(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli_xml") / "strategy.xml"
    path.write_text(strategy().to_gatingml())
    return path


def invoke(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(batch, [str(a) for a in args])
    return res.exit_code, res.stdout, res.stderr


def test_exit_code_says_whether_a_file_failed(inputs: Inputs, xml: Path, tmp_path: Path) -> None:
    code, out, err = invoke(inputs.glob, "--gatingml", xml, "--out", tmp_path / "all", "--threads")
    assert code == 1
    assert "3 processed" in out and "2 failed" in out
    lines = [ln for ln in err.splitlines() if ln.startswith("cd38: error:")]
    assert len(lines) == 2
    assert any("corrupt.fcs" in ln and "FCSError" in ln for ln in lines)
    assert any("no_cd5.fcs" in ln and "GatingError" in ln for ln in lines)
    code, out, err = invoke(*inputs.good, "--gatingml", xml, "--out", tmp_path / "good", "--quiet")
    assert (code, out, err) == (0, "", "")
    ref = cd38.batch.run(inputs.good, strategy(), out=tmp_path / "ref", executor="threads", progress=False)
    assert ref.ok
    assert_same_dataset(tmp_path / "good", tmp_path / "ref")


def test_rerun_skips_and_force_recomputes(inputs: Inputs, xml: Path, tmp_path: Path) -> None:
    args = [*inputs.good, "--gatingml", xml, "--out", tmp_path / "o", "--workers", "1"]
    assert invoke(*args)[0] == 0
    code, out, _ = invoke(*args)
    assert code == 0 and "0 processed, 3 reused" in out
    code, out, _ = invoke(*args, "--force")
    assert code == 0 and "3 processed, 0 reused" in out


def test_statistics_options(inputs: Inputs, xml: Path, tmp_path: Path) -> None:
    out = tmp_path / "o"
    code, _, err = invoke(
        *inputs.good, "--gatingml", xml, "--out", out, "--threads",
        "--stats", "median,rcv", "--channels", "CD38,FITC-A", "--percentiles", "5,95", "--on", "compensated",
    )  # fmt: skip
    assert code == 0, err
    stats = cd38.batch.read(out, "stats")
    assert set(stats["statistic"]) == {"median", "rcv", "p5", "p95"}
    assert set(stats["channel"]) == {"PerCP-Cy5-5-A", "FITC-A"}
    assert set(stats["values_on"]) == {"compensated"}
    assert manifests(out)["s00.fcs.json"]["options"]["percentiles"] == [5.0, 95.0]


def test_a_missing_marker_fails_that_file(inputs: Inputs, xml: Path, tmp_path: Path) -> None:
    code, _, err = invoke(*inputs.good[:2], inputs.missing, "--gatingml", xml, "--out", tmp_path / "o",
                          "--channels", "CD5", "--threads", "--quiet")  # fmt: skip
    assert code == 1
    assert "no_cd5.fcs" in err
    failures = pl.read_parquet(tmp_path / "o" / "failures.parquet")
    assert failures["sample"].to_list() == ["no_cd5.fcs"]


def test_bcell_panel(inputs: Inputs, tmp_path: Path) -> None:
    s = cd38.read_fcs(inputs.good[0])
    keep = [i for i, c in enumerate(s.channels) if c != "FITC-A"]  # CD19
    no_cd19 = tmp_path / "no_cd19.fcs"
    cd38.write_fcs(
        no_cd19, s.to_numpy()[:, keep], [s.channels[i] for i in keep], [s.markers[i] for i in keep]
    )
    out = tmp_path / "o"
    code, _, err = invoke(inputs.good[0], no_cd19, "--panel", "bcell", "--out", out, "--threads", "--quiet")
    assert code == 1
    assert "no_cd19.fcs" in err and "b_cells" in err and "CD19" in err
    counts = cd38.batch.read(out, "counts")
    expected = cd38.panels.bcell(cd38.read_fcs(inputs.good[0])).gate(cd38.read_fcs(inputs.good[0]))
    assert counts.drop("sample").equals(expected.counts_table().drop("sample"))
    doc = manifests(out)["s00.fcs.json"]
    assert doc["panel"]["panel"] == "cd38.panels.bcell.bcell"
    assert doc["strategy_info"]["panel"] == "bcell"
    assert doc["options"]["require"][0] == "b_cells"
    # --require replaces the panel's default: without B cells required, the file passes
    code, _, _ = invoke(no_cd19, "--panel", "bcell", "--require", "lymphocytes", "--out", tmp_path / "o2",
                        "--threads", "--quiet")  # fmt: skip
    assert code == 0


@pytest.mark.parametrize(
    "args",
    [
        [],  # no strategy
        ["--gatingml", "{xml}", "--panel", "bcell"],
        ["--gatingml", "{xml}", "--subjects", "{xml}"],
        ["--gatingml", "{xml}", "--percentiles", "five"],
        ["--gatingml", "{xml}", "--workers", "0"],
        ["--gatingml", "{xml}", "--dask-scheduler", "tcp://127.0.0.1:1", "--workers", "2"],
        ["--gatingml", "{tmp}/absent.xml"],
    ],
)
def test_usage_errors_exit_2(args: list[str], inputs: Inputs, xml: Path, tmp_path: Path) -> None:
    filled = [a.format(xml=xml, tmp=tmp_path) for a in args]
    code, _, err = invoke(inputs.glob, *filled, "--out", tmp_path / "o")
    assert code == 2, err
    assert not (tmp_path / "o").exists()


def test_input_errors_are_one_line(inputs: Inputs, xml: Path, tmp_path: Path) -> None:
    code, _, err = invoke(tmp_path / "*.fcs", "--gatingml", xml, "--out", tmp_path / "o")
    assert code == 1
    assert err.strip().count("\n") == 0 and "no files match" in err
    bad = tmp_path / "bad.xml"
    bad.write_text("<not-gating-ml/>")
    code, _, err = invoke(inputs.glob, "--gatingml", bad, "--out", tmp_path / "o")
    assert code == 1 and "bad.xml" in err and err.strip().count("\n") == 0


def test_subjects_file_needs_interpret_or_is_used(inputs: Inputs, xml: Path, tmp_path: Path) -> None:
    subjects = tmp_path / "subjects.json"
    subjects.write_text(json.dumps({"s00": {"age_years": 61, "diagnosis": "CLL"}}))
    code, _, err = invoke(*inputs.good[:1], "--gatingml", xml, "--out", tmp_path / "o", "--threads",
                          "--context", "cll", "--subjects", subjects)  # fmt: skip
    if not hasattr(cd38, "interpret"):
        assert code == 1 and "cd38.interpret" in err
    else:
        assert code == 0, err
        assert "s00.fcs" in set(cd38.batch.read(tmp_path / "o", "interpretations")["sample"])
