"""Shared fixtures: the repository root and one small simulated dataset (smoke profile)."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def smoke_data():
    """The simulator's smoke profile, seed 0 (about a second to build). Do not mutate it."""
    import tacr.data

    return tacr.data.load("synthetic", profile="smoke", seed=0)
