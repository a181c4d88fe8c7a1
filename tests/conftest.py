"""Shared fixtures: where the shared test data lives, and a scratch directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# CI runs are derandomised so a landing never depends on luck; local runs explore.
settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

REPO = Path(__file__).resolve().parent.parent


def shared_data_dir() -> Path:
    env = os.environ.get("CD38_TEST_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


DATA = shared_data_dir()
HAVE_DATA = (DATA / "gatingml2" / "data1.fcs").is_file()
needs_data = pytest.mark.skipif(
    not HAVE_DATA, reason=f"shared test data not found at {DATA} (set CD38_TEST_DATA)"
)


def shared_fcs_files() -> list[Path]:
    if not HAVE_DATA:
        return []
    return sorted([*DATA.rglob("*.fcs"), *DATA.rglob("*.lmd")])


@pytest.fixture
def data_dir() -> Path:
    if not HAVE_DATA:
        pytest.skip(f"shared test data not found at {DATA} (set CD38_TEST_DATA)")
    return DATA
