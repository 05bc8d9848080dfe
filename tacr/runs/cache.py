"""The run cache: one checksummed entry per finished run, keyed by everything that sets its numbers.

An entry is three files in the cache folder (``$TACR_CACHE``, default ``.cache/runs``):

* ``<key>.parquet`` — the run's per-epoch rows (:func:`tacr.train.run`) with its config columns;
* ``<key>.pt`` — D's weights at the epoch of best validation AUC (scored later by
  :mod:`tacr.runs.scores`);
* ``<key>.json`` — the manifest, written last: the SHA-256 of the two files above.

A run counts as cached only when its manifest is there, every file matches its checksum, and
every per-epoch value is one its metric can take (AUCs in [0, 1], no infinite loss). An entry
without a manifest never finished (or its writer is still at work) and is trained again; one
whose manifest is there but whose files or values fail — a file cut short, bytes changed inside
a data page — is reported with a warning that names the entry, removed, and trained again. Scores
computed later from the weights (``<key>.scores.parquet``) carry their own manifest
(``<key>.scores.json``) and are checked the same way. Every file is written to a temporary file
and renamed (:func:`tacr.files.atomic_write`), so a killed writer leaves no half entry; its
temporary files are removed once they are older than :data:`ORPHAN_SECONDS`.

The key (:func:`run_key`) hashes the whole config (:meth:`tacr.train.TrainConfig.key_fields`:
every field but the device and the scoring batch size, which do not change the numbers), the
data's fingerprint, the package version and :data:`RUN_FORMAT`. Changing any of them gives new
keys: entries written under the old ones are simply never read again (delete the folder to
reclaim the space).
"""
from __future__ import annotations

import hashlib
import json
import os
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from .. import __version__
from ..files import atomic_write, atomic_write_text, folder_error

#: The stored layout of an entry (4: checksummed manifest; every config field in the key).
RUN_FORMAT = 4
ORPHAN_SECONDS = 600  # temporary files older than this are a killed writer's
#: Per-epoch columns that hold an AUC (each must lie in [0, 1]).
AUC_COLUMNS = ("test_auc", "valid_auc", "selected_test_auc")


def default_folder() -> Path:
    """``$TACR_CACHE``, else ``.cache/runs`` in the repository."""
    return Path(os.environ.get("TACR_CACHE") or Path(__file__).resolve().parents[2] / ".cache" / "runs")


def run_key(config, fingerprint: str) -> str:
    """The cache key of ``config`` (a :class:`tacr.train.TrainConfig`) on data with ``fingerprint``."""
    payload = json.dumps({"config": config.key_fields(), "data": fingerprint, "version": __version__,
                          "format": RUN_FORMAT}, sort_keys=True)
    return hashlib.sha1(payload.encode()).hexdigest()[:20]


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class CorruptEntry(ValueError):
    """A cache entry whose files or values cannot be trusted."""


def check_values(df: pd.DataFrame, where: str) -> None:
    """Raise :class:`CorruptEntry` when a per-epoch value is one no metric can take."""
    for col in AUC_COLUMNS:
        if col in df:
            v = df[col].to_numpy(dtype=float)
            bad = ~((v >= 0) & (v <= 1))
            if bad.any():
                raise CorruptEntry(f"{where}: {int(bad.sum())} value(s) of {col} outside [0, 1] (e.g. {v[bad][0]!r})")
    for col in df.columns:
        if df[col].dtype.kind == "f" and np.isinf(df[col].to_numpy()).any():
            raise CorruptEntry(f"{where}: infinite value(s) in {col}")


class RunCache:
    """The cache folder and its entries (see the module docstring).

    Args:
        folder: where entries live (default :func:`default_folder`); created when missing.
    """

    def __init__(self, folder=None):
        self.folder = Path(folder) if folder is not None else default_folder()
        self.folder.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"RunCache({str(self.folder)!r})"

    # ------------------------------------------------------------------ files of an entry
    def path(self, key: str, kind: str = "parquet") -> Path:
        """``parquet`` (rows), ``pt`` (weights), ``json`` (manifest), ``scores.parquet``, ``scores.json``."""
        return self.folder / f"{key}.{kind}"

    def _write_manifest(self, manifest: Path, files: list[Path]) -> None:
        body = {"format": RUN_FORMAT, "version": __version__, "files": {p.name: sha256(p) for p in files}}
        atomic_write_text(manifest, json.dumps(body, indent=1, sort_keys=True) + "\n")

    def _verify(self, manifest: Path, files: list[Path]) -> None:
        if not manifest.exists():
            raise CorruptEntry(f"no manifest {manifest.name}")
        try:
            sums = json.loads(manifest.read_text())["files"]
        except (ValueError, KeyError, TypeError) as exc:
            raise CorruptEntry(f"unreadable manifest {manifest.name} ({exc})") from exc
        for p in files:
            if not p.exists():
                raise CorruptEntry(f"{p.name} is missing")
            if sums.get(p.name) != sha256(p):
                raise CorruptEntry(f"{p.name} does not match its checksum")

    def _discard(self, key: str, what: str, reason: Exception, files: list[Path]) -> None:
        warnings.warn(f"tacr run cache: {what} of entry {key} in {self.folder} cannot be trusted ({reason}); "
                      "recomputing it", stacklevel=3)
        for p in files:
            p.unlink(missing_ok=True)

    # ------------------------------------------------------------------ runs
    def has(self, key: str) -> bool:
        """Whether a complete, verified entry exists (a bad one is removed with a warning)."""
        files = [self.path(key, "parquet"), self.path(key, "pt")]
        manifest = self.path(key, "json")
        if not manifest.exists():  # never finished (or its writer is still at work): train it
            return False
        try:
            self._verify(manifest, files)
            check_values(pd.read_parquet(files[0]), files[0].name)
        except Exception as exc:  # noqa: BLE001 - any unreadable file means: train again
            self._discard(key, "the run", exc, files + [manifest] + self._score_files(key))
            return False
        return True

    def read(self, key: str) -> pd.DataFrame:
        """The per-epoch rows of a verified entry (call :meth:`has` first)."""
        return pd.read_parquet(self.path(key, "parquet"))

    def write(self, key: str, rows: pd.DataFrame, state: dict) -> None:
        """Store a finished run: rows, weights, then the manifest that marks it complete."""
        import torch

        check_values(rows, f"run {key}")
        try:
            atomic_write(self.path(key, "parquet"), lambda tmp: rows.to_parquet(tmp, index=False))
            atomic_write(self.path(key, "pt"), lambda tmp: torch.save(state, tmp))
            self._write_manifest(self.path(key, "json"), [self.path(key, "parquet"), self.path(key, "pt")])
        except (OSError, RuntimeError) as exc:  # a full disk, a read-only folder: say which and why
            err = folder_error(exc, self.folder, "TACR_CACHE" if os.environ.get("TACR_CACHE") else None, "run cache")
            if err is None:
                raise
            raise err from exc

    def state(self, key: str) -> dict:
        """D's stored weights (verified)."""
        import torch

        if not self.has(key):
            raise FileNotFoundError(f"no cached run {key} in {self.folder}; train it with run_grid first")
        return torch.load(self.path(key, "pt"), map_location="cpu", weights_only=True)

    # ------------------------------------------------------------------ scores
    def _score_files(self, key: str) -> list[Path]:
        return [self.path(key, "scores.parquet"), self.path(key, "scores.json")]

    def read_scores(self, key: str) -> pd.DataFrame | None:
        """The stored scores table (``split``, ``row``, ``score``) of a run, or None when there is
        none or it fails its checks (removed with a warning)."""
        table, manifest = self._score_files(key)
        if not manifest.exists():
            return None
        try:
            self._verify(manifest, [table])
            scores = pd.read_parquet(table)
            if not np.isfinite(scores["score"].to_numpy()).all():
                raise CorruptEntry("non-finite scores")
        except Exception as exc:  # noqa: BLE001
            self._discard(key, "the scores", exc, [table, manifest])
            return None
        return scores

    def write_scores(self, key: str, table: pd.DataFrame) -> None:
        path, manifest = self._score_files(key)
        atomic_write(path, lambda tmp: table.to_parquet(tmp, index=False))
        self._write_manifest(manifest, [path])

    # ------------------------------------------------------------------ housekeeping
    def remove_orphans(self) -> None:
        """Delete temporary files (``.<name>.*``) of writers killed more than :data:`ORPHAN_SECONDS` ago."""
        now = time.time()
        for p in self.folder.glob(".*"):
            try:
                if now - p.stat().st_mtime > ORPHAN_SECONDS:
                    p.unlink()
            except OSError:
                pass
