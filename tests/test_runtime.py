"""tacr.runtime: the glibc allocator tuning that DeviceData applies once per process."""
from __future__ import annotations

import ctypes
import platform

import pytest
import torch

from tacr import runtime


@pytest.fixture
def fresh(monkeypatch):
    monkeypatch.setattr(runtime, "_done", None)
    return monkeypatch


def test_opt_out(fresh):
    fresh.setenv("TACR_MALLOC_TUNING", "0")
    assert runtime.tune_cpu_allocator() is False
    assert runtime.tune_cpu_allocator() is False  # idempotent: the first call decides


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_applied_on_glibc_and_memory_still_works(fresh):
    fresh.delenv("TACR_MALLOC_TUNING", raising=False)
    assert runtime.tune_cpu_allocator() is True
    assert runtime.tune_cpu_allocator() is True
    # large tensors are allocated, freed and reallocated with correct contents
    for _ in range(3):
        x = torch.arange(50_000_000, dtype=torch.int32)  # 200 MB, above glibc's default mmap threshold
        assert int(x[-1]) == 49_999_999 and int(x.sum(dtype=torch.int64)) == 49_999_999 * 50_000_000 // 2
        del x
    ctypes.CDLL("libc.so.6").malloc_trim(0)
