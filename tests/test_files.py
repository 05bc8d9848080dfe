"""tacr.files: atomic writes leave whole files with the permissions the user's umask gives."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tacr import files
from tacr.files import atomic_write, atomic_write_text


@pytest.fixture()
def set_umask():
    old = os.umask(0o022)
    os.umask(old)

    def set_mask(mask):
        os.umask(mask)

    yield set_mask
    os.umask(old)


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_atomic_write_keeps_the_umask(tmp_path, set_umask, mask, mode):
    set_umask(mask)
    assert files.umask() == mask
    p = atomic_write_text(tmp_path / "sub" / "a.md", "x\n")
    assert stat.S_IMODE(p.stat().st_mode) == mode
    q = atomic_write(tmp_path / "fig.png", lambda tmp: Path(tmp).write_bytes(b"\x89PNG"))
    assert stat.S_IMODE(q.stat().st_mode) == mode
    assert [f.name for f in tmp_path.iterdir() if f.name.startswith(".")] == []  # no temporary left


def test_atomic_write_removes_temporary_on_error(tmp_path):
    def fail(tmp):
        Path(tmp).write_text("half")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        atomic_write(tmp_path / "a.txt", fail)
    assert list(tmp_path.iterdir()) == []
