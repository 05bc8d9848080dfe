"""Shared fixtures: the repository root and one small simulated dataset (smoke profile)."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _private_figures(tmp_path, monkeypatch):
    """Whatever a test writes as results goes to its own folder, never to the repository's
    ``figures/`` (a test that checks the default folders unsets this itself)."""
    monkeypatch.setenv("TACR_FIGURES", str(tmp_path / "figures"))


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
