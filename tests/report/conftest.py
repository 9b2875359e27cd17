"""Fixtures for the report tests (the outputs themselves are made in report_outputs.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from report_outputs import make_run


@pytest.fixture(scope="session")
def run_output(tmp_path_factory) -> Path:
    """A finished run (read-only for the tests: copy it before changing it)."""
    return make_run(tmp_path_factory.mktemp("report-run"))


@pytest.fixture
def fresh_output(run_output, tmp_path) -> Path:
    """A private copy of the finished run."""
    target = tmp_path / "out"
    shutil.copytree(run_output, target)
    return target
