"""cd38.report: one self-contained, escaped HTML file, checked in headless Chromium."""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import cd38
import cd38.panels
from cd38 import synth
from cd38.contexts.evidence import Citation
from cd38.gates import RectangleGate
from cd38.interpretation import Finding, Interpretation, InterpretationWarning, PluginInfo, Refusal
from cd38.report import DISCLAIMER, build_report, write_report
from cd38.subject import Subject

HOSTILE = '<script>alert("x")</script>'


@pytest.fixture(scope="module")
def panel_result(tmp_path_factory: pytest.TempPathFactory) -> cd38.GatingResult:
    path = tmp_path_factory.mktemp("report") / "panel.fcs"
    synth.bcell_sample(path, 20_000, seed=5)
    sample = cd38.read_fcs(path)
    return cd38.panels.bcell(sample).gate(sample)


def _interpretation() -> Interpretation:
    cite = Citation(
        "damle_1999",
        "Blood",
        1999,
        authors="Damle et al.",
        reference="Blood 1999;94:1840",
        url="http://ashpublications.net/blood/article/94/6/1840",
        evidence="V-abs",
    )
    finding = Finding(
        rule="demo.cd38_cut",
        category="at_or_above_30",
        statement="In the cited cohort, 30 % or more CD38+ cells was associated with shorter survival.",
        citations=(cite,),
        evidence_level=("V-abs",),
        value=41.5,
        caveats=(f"Caveat with markup {HOSTILE}",),
    )
    return Interpretation(
        context="demo",
        plugin=PluginInfo("demo", "cd38-demo-plugin", "1.2.3", False),
        subject=Subject(),
        measurements=(),
        findings=(finding,),
        warnings=(InterpretationWarning("sample_age", "Sample older than 48 hours."),),
        refusals=(Refusal("demo.other_rule", "wrong_unit", "Only percentages are accepted."),),
    )


@pytest.fixture(scope="module")
def html(panel_result: cd38.GatingResult) -> str:
    return build_report(panel_result, interpretation=_interpretation())


def _images(html: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)]


def test_report_is_self_contained(html: str) -> None:
    imgs = _images(html)
    assert len(imgs) == 2 and all(i.startswith(b"\x89PNG\r\n\x1a\n") for i in imgs)
    assert html.count("<img") == 2
    # Nothing to fetch: every src is a data URI, no scripts, stylesheets or CSS urls.
    assert all(s.startswith("data:") for s in re.findall(r'src="([^"]*)"', html))
    assert "<script" not in html.lower() and "<link" not in html.lower() and "url(" not in html
    assert html.count(DISCLAIMER) == 2


def test_report_sections(panel_result: cd38.GatingResult, html: str) -> None:
    from cd38.stats import file_blake3

    for text in (
        "Sample and acquisition",
        file_blake3(panel_result.sample),
        "cd38 synth",  # $CYT
        "CD38 gate definition",
        "bright",
        "Populations",
        "cd38pos_igmneg",
        "In the cited cohort, 30 % or more CD38+ cells",
        "Damle et al.",
        "Blood 1999;94:1840",
        "cd38-demo-plugin 1.2.3 (third-party)",
        "Sample older than 48 hours.",
        "Only percentages are accepted.",
    ):
        assert text in html, text
    for pid in panel_result.populations:
        assert f"<td>{pid}</td>" in html


def test_text_from_files_and_plugins_is_escaped(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    data = rng.uniform(0, 1000, (500, 2)).astype(np.float32)
    path = tmp_path / "hostile.fcs"
    cd38.write_fcs(path, data, ["FSC-A", "FL1-A"], ["", HOSTILE], keywords={"$CYT": HOSTILE})
    sample = cd38.read_fcs(path)
    st = cd38.GatingStrategy()
    st.add(RectangleGate("big", [cd38.Dimension("FSC-A")], [500.0], [None]))
    html = build_report(st.gate(sample), interpretation=_interpretation())
    assert HOSTILE not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    # No CD38/IgM channels: the report says so instead of failing.
    assert "No CD38 x IgM plot" in html


def test_write_report_is_atomic_and_readable(panel_result: cd38.GatingResult, tmp_path: Path) -> None:
    out = write_report(tmp_path / "r.html", panel_result)
    assert out.read_text("utf-8").startswith("<!DOCTYPE html>")
    assert "No clinical context was requested" in out.read_text("utf-8")
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]
    # The usual permissions of a new file (the umask's), not a private temp file's 0600.
    ref = tmp_path / "ref"
    ref.write_text("x")
    assert out.stat().st_mode & 0o777 == ref.stat().st_mode & 0o777


# -- headless Chromium ---------------------------------------------------------------
def _find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium, installed with apt-get when missing and we are root."""
    found = _find_chromium()
    if found:
        return found
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip("chromium is not installed and cannot be installed here (needs root and apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    cmd = ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]
    try:
        r = subprocess.run(cmd, env=env, capture_output=True, timeout=900)
        if r.returncode != 0:
            subprocess.run(["apt-get", "update"], env=env, capture_output=True, timeout=300)
            r = subprocess.run(cmd, env=env, capture_output=True, timeout=900)
    except subprocess.TimeoutExpired:
        pytest.skip("installing chromium with apt-get timed out")
    found = _find_chromium()
    if not found:
        tail = r.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        pytest.skip(f"chromium could not be installed with apt-get: {tail[0]}")
    return found


_PROBE = """<script>
window.addEventListener('load', () => {
  const imgs = [...document.images];
  document.body.setAttribute('data-probe',
    imgs.map(i => i.complete + ':' + i.naturalWidth + 'x' + i.naturalHeight).join(' '));
});
</script>"""


def _headless(browser: str, *args: str) -> subprocess.CompletedProcess[str]:
    base = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        "--disable-dev-shm-usage",
        "--virtual-time-budget=10000",
    ]
    return subprocess.run([*base, *args], capture_output=True, text=True, timeout=120)


def test_report_renders_in_chromium(html: str, chromium: str, tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    report.write_text(html, "utf-8")
    # A probe copy: the report's own policy, plus permission for one inline script.
    probe = tmp_path / "probe.html"
    probe.write_text(
        html.replace("default-src 'none';", "default-src 'none'; script-src 'unsafe-inline';").replace(
            "</body>", _PROBE + "</body>"
        ),
        "utf-8",
    )
    dom = _headless(chromium, "--dump-dom", probe.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    m = re.search(r'data-probe="([^"]*)"', dom.stdout)
    assert m, dom.stdout[:500]
    sizes = m.group(1).split()
    assert len(sizes) == 2
    for s in sizes:
        complete, wh = s.split(":")
        w, h = (int(v) for v in wh.split("x"))
        assert complete == "true" and w > 200 and h > 200, sizes
    # And the untouched report paints something that is not blank.
    shot = tmp_path / "shot.png"
    r = _headless(
        chromium, "--hide-scrollbars", "--window-size=1200,3000", f"--screenshot={shot}", report.as_uri()
    )
    assert r.returncode == 0 and shot.is_file(), r.stderr[-2000:]
    from matplotlib.image import imread

    pixels = imread(shot)
    assert pixels.std() > 0.05
