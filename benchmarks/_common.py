"""Helpers shared by the benchmarks: atomic writes, machine info, RSS sampling, Markdown tables,
where a smoke run writes (never over ``benchmarks/results/``) and the stamp each JSON carries."""
from __future__ import annotations

import os
import platform
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tacr.files import atomic_write_text  # noqa: E402


#: ``--smoke`` runs write here unless ``--out`` says otherwise: the stored results stay intact.
SMOKE_DIR = Path(os.environ.get("TACR_BENCH_SMOKE_DIR") or Path(tempfile.gettempdir()) / "tacr-bench-smoke")


def write_atomic(path, text: str) -> None:
    atomic_write_text(path, text)


def out_path(out: str | None, name: str, smoke: bool = False) -> Path:
    """``out`` if given; else ``benchmarks/results/<name>``, or ``SMOKE_DIR/<name>`` for a smoke run."""
    if out:
        return Path(out)
    return (SMOKE_DIR if smoke else RESULTS) / name


def stamp(**extra) -> dict:
    """What every benchmark JSON carries: the tacr version measured, the date, the machine."""
    from datetime import datetime, timezone

    import tacr

    return {"tacr_version": tacr.__version__, "date": f"{datetime.now(timezone.utc):%Y-%m-%d}",
            "machine": machine_line(), **extra}


def machine_line() -> str:
    import torch

    return (f"torch {torch.__version__}, {torch.get_num_threads()} torch thread(s), "
            f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
            f"1-min load average {os.getloadavg()[0]:.1f} (machine shared with other jobs)")


def maxrss_gb() -> float:
    """Peak resident memory of this process so far (Linux ru_maxrss is in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def hwm_gb() -> float:
    """Peak resident memory of this process image (VmHWM). Unlike ``ru_maxrss``, which a child
    inherits across fork+exec from a big parent, VmHWM starts afresh at exec."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 2**20
    return maxrss_gb()


def rss_gb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 2**20
    return float("nan")


class RSSSampler:
    """Peak RSS within a phase (ru_maxrss is monotonic over the process): a thread polls VmRSS."""

    def __init__(self, every: float = 0.1):
        self.every, self.peak, self._stop = every, 0.0, threading.Event()

    def __enter__(self):
        self.peak = rss_gb()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    def _run(self):
        while not self._stop.wait(self.every):
            self.peak = max(self.peak, rss_gb())

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, rss_gb())


def table(header, rows) -> list[str]:
    """Markdown table lines; numbers right-aligned."""
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return out


def fmt(x, digits: int = 0) -> str:
    if x is None or (isinstance(x, float) and x != x):
        return "n/a"
    return f"{x:,.{digits}f}"
