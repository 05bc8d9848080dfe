"""Shared fixtures: the repository root and one small simulated dataset (smoke profile)."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _private_figures_marker(tmp_path, monkeypatch):
    """Notebooks run by a test record their figure folder in the test's own marker file, never
    in the repository's ``outputs/figures_dir`` (a ``./run_all.sh`` may be running beside)."""
    monkeypatch.setenv("TACR_FIGURES_MARKER", str(tmp_path / "figures_dir"))


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def smoke_data():
    """The simulator's smoke profile, seed 0 (about a second to build). Do not mutate it."""
    import tacr.data

    return tacr.data.load("synthetic", profile="smoke", seed=0)


@pytest.fixture(scope="module")
def one_thread():
    """Tiny tensors: one torch thread is as fast and immune to CPU oversubscription."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
