"""What the benchmarks share: where results go, the stamp every JSON carries, the machine line,
peak-memory readings, interleaved timing, child processes and Markdown tables."""
from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
#: ``--smoke`` writes here (never over the stored results) unless ``--out`` says otherwise.
SMOKE_DIR = Path(os.environ.get("TACR_BENCH_SMOKE_DIR") or Path(tempfile.gettempdir()) / "tacr-bench-smoke")
for p in (ROOT, ROOT / "benchmarks"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from tacr.files import atomic_write_text  # noqa: E402


def out_path(out: str | None, name: str, smoke: bool = False) -> Path:
    """``out`` if given, else ``<name>.md`` in the results folder (the smoke folder for ``--smoke``)."""
    return Path(out) if out else (SMOKE_DIR if smoke else RESULTS) / f"{name}.md"


def machine_line(device: str = "cpu") -> str:
    import torch

    gpu = f", {torch.cuda.get_device_name()}" if str(device).startswith("cuda") else ""
    return (f"torch {torch.__version__}, {torch.get_num_threads()} torch thread(s), "
            f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs{gpu}; "
            f"1-min load average {os.getloadavg()[0]:.1f} (shared machine)")


def write_result(out: Path, lines: list[str], summary: dict, device: str = "cpu") -> None:
    """``out`` (Markdown) and the JSON beside it: ``summary`` with the tacr version, date and machine."""
    import tacr

    summary = {**summary, "tacr_version": tacr.__version__, "date": f"{datetime.now(timezone.utc):%Y-%m-%d}",
               "machine": machine_line(device)}
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, "\n".join(lines).rstrip() + "\n")
    atomic_write_text(out.with_suffix(".json"), json.dumps(summary, indent=1, default=str))
    print("\n".join(lines))


def interleaved(fns: dict, reps: int, sync=lambda: None) -> dict[str, float]:
    """Median seconds of each callable over ``reps`` rounds, every callable once per round."""
    secs = {k: [] for k in fns}
    for _ in range(reps):
        for k, fn in fns.items():
            sync()
            t = time.perf_counter()
            fn()
            sync()
            secs[k].append(time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in secs.items()}


def run_child(args: list[str], env: dict | None = None, timeout: float | None = None) -> dict:
    """Run ``python ARGS`` from the repository root; its last stdout line is a JSON object."""
    p = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                       env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})
    if p.returncode:
        raise RuntimeError(f"child {args} failed (exit {p.returncode}):\n{p.stderr[-3000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def status_kb(key: str) -> float:
    """A ``/proc/self/status`` field in GB (``VmHWM``: this process image's peak, fresh at exec)."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(key + ":")) / 2**20


class PeakRSS:
    """Peak resident memory within a block (a thread polls ``VmRSS``; ``ru_maxrss`` never falls)."""

    def __enter__(self):
        self.peak, self._stop = status_kb("VmRSS"), threading.Event()
        self._t = threading.Thread(target=self._poll, daemon=True)
        self._t.start()
        return self

    def _poll(self):
        while not self._stop.wait(0.1):
            self.peak = max(self.peak, status_kb("VmRSS"))

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, status_kb("VmRSS"))


def table(header, rows) -> list[str]:
    """Markdown table lines, numbers right-aligned."""
    return (["| " + " | ".join(header) + " |", "|---" + "|---:" * (len(header) - 1) + "|"]
            + ["| " + " | ".join(str(c) for c in r) + " |" for r in rows])


def fmt(x, digits: int = 0) -> str:
    return "n/a" if x is None or x != x else f"{x:,.{digits}f}"
