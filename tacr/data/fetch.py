"""Data that a registry package ships, fetched and checked with no manual step.

    python -m tacr.data.fetch movielens-100k [--data-dir DIR] [--force] [--wheel FILE]

MovieLens 100K: the ``recbole==1.2.1`` wheel on PyPI carries GroupLens's 100,000 ratings as
RecBole atomic files (``recbole/dataset_example/ml-100k/ml-100k.inter``, ``.item``, ``.user``).
:func:`fetch` downloads the wheel with ``pip download --no-deps`` (RecBole is *not* installed),
extracts only those three files, checks their SHA-256 and their content (100,000 rows, 943
users, 1,682 items, 55,375 ratings >= 4), and moves them into the data folder that
``tacr.data.load("movielens-100k")`` reads (default ``$TACR_DATA_DIR/ml-100k``, else
``./data/ml-100k``). The files are staged in a temporary folder beside the target and moved with
``os.replace`` (the whole folder when the target does not exist yet, else file by file with
``.inter`` last), so a reader never sees a partial set. The folder also gets a ``.gitignore``
(``*``: the data is never committed) and ``SOURCE.txt`` (provenance and terms).

``--wheel FILE`` extracts from a wheel downloaded elsewhere (offline machines). Without
registry access the error names the manual route: GroupLens's own zip, whose ``u.data``,
``u.user``, ``u.item`` the loader reads as well.

Terms (GroupLens): research use; acknowledge the data set and cite Harper & Konstan (2015);
no redistribution without permission; no commercial use without permission. Printed on every
fetch and stored in ``SOURCE.txt``.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from .readers import DataError, resolve_data_dir

TERMS_100K = """\
MovieLens 100K is (c) GroupLens Research, University of Minnesota, under its terms of use
(https://files.grouplens.org/datasets/movielens/ml-100k-README.txt):
  * research use; no endorsement by the University of Minnesota or GroupLens may be stated or implied;
  * acknowledge the data set in publications: F. Maxwell Harper and Joseph A. Konstan. 2015.
    The MovieLens Datasets: History and Context. ACM Transactions on Interactive Intelligent
    Systems (TiiS) 5, 4, Article 19. https://doi.org/10.1145/2827872
  * no redistribution without separate permission (do not commit these files);
  * no commercial or revenue-bearing use without permission from GroupLens.
The copy used here is the one RecBole (MIT-licensed code) ships in its PyPI wheel."""


@dataclass(frozen=True)
class Source:
    """A data set inside a registry package: what to download, what to extract, how to check it."""

    dataset: str
    requirement: str  # pip requirement of the wheel
    member_dir: str  # folder inside the wheel
    files: dict  # file name -> SHA-256 of its content
    default_sub: str  # sub-folder of $TACR_DATA_DIR
    terms: str
    manual: str  # the manual route, for error messages
    expected: dict = field(default_factory=dict)  # content checks, see check_movielens_100k


SOURCES = {
    "movielens-100k": Source(
        dataset="movielens-100k",
        requirement="recbole==1.2.1",
        member_dir="recbole/dataset_example/ml-100k/",
        files={"ml-100k.inter": "4edb74e2a81178c2ba9ff381495f754f996c4aea351b1272ca36b43da0935eff",
               "ml-100k.item": "51d7cdf777ce5c0f5b32c1d947a4a81fe07d75e78abbe761e0cd4d0756064532",
               "ml-100k.user": "4f670007d9cfbeb9807e757209af1555b9bcc186bde25e767f67cb67c6dd5972"},
        default_sub="ml-100k",
        terms=TERMS_100K,
        manual=("download ml-100k.zip from https://grouplens.org/datasets/movielens/100k/ and unzip it so that "
                "u.data, u.user and u.item lie in {folder} (or its sub-folder ml-100k); or, on a machine with "
                "registry access, run `pip download --no-deps recbole==1.2.1` and then "
                "`python -m tacr.data.fetch movielens-100k --wheel recbole-1.2.1-py3-none-any.whl --data-dir {folder}`"),
        expected={"rows": 100_000, "users": 943, "items": 1_682, "ratings >= 4": 55_375},
    ),
}


def _say(msg: str, quiet: bool = False) -> None:
    if not quiet:
        print(msg, file=sys.stderr, flush=True)


def sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# ----------------------------------------------------------------------------------- checks
def check_movielens_100k(folder) -> dict:
    """Counts of the atomic ML-100K files in ``folder``; :class:`DataError` if they differ from
    :data:`SOURCES`' expectation."""
    from .atomic import read_atomic

    inter = read_atomic(Path(folder) / "ml-100k.inter", {"user_id": None, "item_id": None, "rating": None,
                                                         "timestamp": None},
                        required=["user_id", "item_id", "rating", "timestamp"])
    items = read_atomic(Path(folder) / "ml-100k.item", {"item_id": None}, required=["item_id"])
    users = read_atomic(Path(folder) / "ml-100k.user", {"user_id": None}, required=["user_id"])
    got = {"rows": len(inter), "users": int(inter["user_id"].nunique()), "items": int(inter["item_id"].nunique()),
           "ratings >= 4": int((inter["rating"] >= 4).sum())}
    want = SOURCES["movielens-100k"].expected
    wrong = {k: (got[k], v) for k, v in want.items() if got[k] != v}
    if wrong or len(items) != want["items"] or len(users) != want["users"]:
        detail = "; ".join(f"{k}: {g:,} (expected {w:,})" for k, (g, w) in wrong.items())
        raise DataError(f"movielens-100k: the files in {str(folder)!r} are not MovieLens 100K as expected: "
                        f"{detail or f'{len(items)} item rows, {len(users)} user rows'}")
    return got | {"item rows": len(items), "user rows": len(users)}


CHECKS = {"movielens-100k": check_movielens_100k}


def _verify(folder: Path, src: Source) -> None:
    for name, digest in src.files.items():
        got = sha256(folder / name)
        if got != digest:
            raise DataError(f"{src.dataset}: {name} has SHA-256 {got[:16]}..., expected {digest[:16]}... "
                            f"(a different copy than {src.requirement} ships)")


def present(folder, dataset: str = "movielens-100k") -> bool:
    """Whether ``folder`` holds every file of ``dataset``'s atomic copy."""
    return all((Path(folder) / f).is_file() for f in SOURCES[dataset].files)


# ---------------------------------------------------------------------------------- download
def download_wheel(requirement: str, dest: Path, *, pip_timeout: float = 30, retries: int = 2,
                   total_timeout: float = 600) -> Path:
    """``pip download --no-deps --only-binary=:all: <requirement>`` into ``dest``; the wheel's path.
    Raises :class:`DataError` with pip's last lines when pip fails or times out."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--no-input",
           "--disable-pip-version-check", "--timeout", str(pip_timeout), "--retries", str(retries),
           "-d", str(dest), requirement]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=total_timeout)
    except subprocess.TimeoutExpired:
        raise DataError(f"pip download {requirement} did not finish within {total_timeout:g} s") from None
    except OSError as exc:
        raise DataError(f"cannot run pip ({exc})") from None
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-4:])
        raise DataError(f"pip download {requirement} failed (exit {proc.returncode}):\n{tail}")
    name = requirement.split("==")[0].replace("-", "_").lower()
    wheels = sorted(p for p in dest.glob("*.whl") if p.name.lower().startswith(name))
    if not wheels:
        raise DataError(f"pip download {requirement} produced no wheel in {dest}")
    return wheels[0]


def extract(wheel: Path, src: Source, dest: Path) -> None:
    """Extract ``src.files`` from ``src.member_dir`` of the wheel into ``dest`` (nothing else)."""
    try:
        with zipfile.ZipFile(wheel) as zf:
            names = set(zf.namelist())
            for f in src.files:
                member = src.member_dir + f
                if member not in names:
                    raise DataError(f"{wheel.name} has no {member}")
                with zf.open(member) as fin, open(dest / f, "wb") as fout:
                    shutil.copyfileobj(fin, fout, 1 << 20)
    except zipfile.BadZipFile as exc:
        raise DataError(f"{wheel.name} is not a valid wheel: {exc}") from None


def _move_into_place(staging: Path, folder: Path, src: Source) -> None:
    """The whole staging folder onto a missing ``folder``; otherwise file by file, .inter last."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    if not folder.exists():
        try:
            os.replace(staging, folder)
            return
        except OSError:  # created concurrently: fall through to per-file moves
            pass
    folder.mkdir(parents=True, exist_ok=True)
    names = sorted(os.listdir(staging), key=lambda n: (n.endswith(".inter"), n))
    for name in names:
        os.replace(staging / name, folder / name)
    shutil.rmtree(staging, ignore_errors=True)


def fetch(dataset: str = "movielens-100k", data_dir=None, *, force: bool = False, wheel=None, quiet: bool = False,
          pip_timeout: float = 30, retries: int = 2, total_timeout: float = 600) -> Path:
    """Download (or take ``wheel``), extract, check and install ``dataset``'s files; the folder.

    Progress, the data's terms and the result go to stderr. Files already in place are
    checked and kept unless ``force``. Raises :class:`DataError` (with the manual route) when
    the registry cannot be reached or the content is not as expected.
    """
    if dataset not in SOURCES:
        raise ValueError(f"nothing to fetch for {dataset!r}; fetchable: {sorted(SOURCES)}")
    src = SOURCES[dataset]
    folder = resolve_data_dir(data_dir, src.default_sub).expanduser().absolute()
    if present(folder, dataset) and not force:
        try:
            _verify(folder, src)
            CHECKS[dataset](folder)
        except DataError as exc:
            raise DataError(f"{exc}\nThe files in {folder} are damaged or another copy; fetch them again with "
                            f"`python -m tacr.data.fetch {dataset} --force --data-dir {str(folder)!r}`") from None
        _say(f"tacr.data.fetch: {dataset} is already in {folder} (checked)", quiet)
        return folder
    started = time.perf_counter()
    what = f"from the local wheel {wheel}" if wheel else f"the PyPI wheel {src.requirement} (about 2 MB; not installed)"
    _say(f"tacr.data.fetch: {dataset}: downloading {what} to extract {', '.join(src.files)} into {folder}", quiet)
    _say(src.terms, False)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = folder.parent / f".{folder.name}.fetch-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        with tempfile.TemporaryDirectory(prefix="tacr-fetch-") as tmp:
            if wheel is None:
                try:
                    whl = download_wheel(src.requirement, Path(tmp), pip_timeout=pip_timeout, retries=retries,
                                         total_timeout=total_timeout)
                except DataError as exc:
                    raise DataError(f"{dataset}: cannot fetch the data: {exc}\nManual route: "
                                    + src.manual.format(folder=str(folder))) from None
            else:
                whl = Path(wheel)
                if not whl.is_file():
                    raise DataError(f"{dataset}: wheel {str(whl)!r} not found")
            downloaded = time.perf_counter() - started
            extract(whl, src, staging)
        _verify(staging, src)
        counts = CHECKS[dataset](staging)
        (staging / ".gitignore").write_text("# fetched data: never commit (GroupLens terms: no redistribution)\n*\n")
        (staging / "SOURCE.txt").write_text(
            f"{dataset}: {', '.join(src.files)} extracted from {whl.name} ({src.member_dir}) "
            f"by tacr.data.fetch on {time.strftime('%Y-%m-%d %H:%M:%S')}.\n"
            + "".join(f"sha256 {v}  {k}\n" for k, v in src.files.items()) + "\n" + src.terms + "\n")
        _move_into_place(staging, folder, src)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    total = time.perf_counter() - started
    _say(f"tacr.data.fetch: {dataset} ready in {folder}: "
         + ", ".join(f"{v:,} {k}" for k, v in counts.items() if k in src.expected)
         + f" (checked; download {downloaded:.1f} s, total {total:.1f} s)", quiet)
    return folder


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tacr.data.fetch", description=__doc__.splitlines()[0])
    ap.add_argument("dataset", choices=sorted(SOURCES))
    ap.add_argument("--data-dir", default=None,
                    help="target folder (default $TACR_DATA_DIR/<dataset folder>, else ./data/<dataset folder>)")
    ap.add_argument("--force", action="store_true", help="download again even if the files are there")
    ap.add_argument("--wheel", default=None, help="extract from this already downloaded wheel (no network)")
    args = ap.parse_args(argv)
    try:
        folder = fetch(args.dataset, args.data_dir, force=args.force, wheel=args.wheel)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
