"""``python -m tacr.data.fetch movielens-100k``: the real fetch when pip can reach the registry
(skipped with the reason otherwise), the checks, the first-use fetch of ``load("movielens-100k")``,
the offline routes and errors, and the two ML-100K layouts giving the identical dataset."""
from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

import tacr.data as D
from tacr.data import DataError
from tacr.data import fetch as F
from tacr.data.readers import resolve_data_dir

SRC = F.SOURCES["movielens-100k"]


@pytest.fixture(scope="module")
def ml100k(tmp_path_factory) -> Path:
    """A folder with the real atomic ML-100K files: the default data folder's when it has them,
    else a fresh fetch (short pip timeouts; skip with pip's reason when the registry is out of reach)."""
    default = resolve_data_dir(None, "ml-100k")
    for d in (default, default / "ml-100k"):
        if F.present(d):
            return d
    target = tmp_path_factory.mktemp("fetch") / "ml-100k"
    try:
        F.fetch("movielens-100k", target, pip_timeout=8, retries=0, total_timeout=25)
    except DataError as exc:
        lines = str(exc).splitlines()
        pytest.skip(f"registry not reachable, real ML-100K not fetched: {lines[0][:120]} ... {lines[-2][:160]}")
    return target


def fake_wheel(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(SRC.member_dir + name, data)
        zf.writestr("recbole/__init__.py", b"")
    return path


def wheel_from(folder: Path, path: Path) -> Path:
    return fake_wheel(path, {f: (folder / f).read_bytes() for f in SRC.files})


# ---------------------------------------------------------------------------- real files
def test_fetched_files_checked(ml100k):
    assert F.check_movielens_100k(ml100k) == {"rows": 100_000, "users": 943, "items": 1_682, "ratings >= 4": 55_375,
                                             "item rows": 1_682, "user rows": 943}
    for name, digest in SRC.files.items():
        assert F.sha256(ml100k / name) == digest


def test_load_default_protocol(ml100k, tmp_path):
    d = D.load("movielens-100k", data_dir=ml100k, cache_dir=tmp_path)
    assert (len(d.train), len(d.valid), len(d.test)) == (81_114, 10_048, 8_838)
    assert d.info["raw_layout"] == "recbole-atomic" and d.info["n_clicks"] == 55_375
    assert (d.n_users, len(d.items), d.spec.n_categories, d.aux_sizes) == (943, 1_682, 19, (3, 8, 22))
    assert d.train.L == 10
    new_users = ~np.isin(d.test.user, d.train.user)
    assert round(new_users.mean(), 2) == 0.84  # most test rows are users absent from training


def write_grouplens_copy(atomic: Path, out: Path) -> Path:
    """u.data, u.user, u.item in GroupLens's own format, written from the atomic files."""
    genres = D.movielens.GENRES_100K
    out.mkdir(parents=True)
    inter = [line.split("\t") for line in (atomic / "ml-100k.inter").read_text().splitlines()[1:]]
    (out / "u.data").write_text("".join(f"{u}\t{i}\t{int(float(r))}\t{int(float(t))}\n" for u, i, r, t in inter))
    users = [line.split("\t") for line in (atomic / "ml-100k.user").read_text().splitlines()[1:]]
    (out / "u.user").write_text("".join("|".join(u) + "\n" for u in users))
    lines = []
    for row in (atomic / "ml-100k.item").read_text(encoding="utf-8").splitlines()[1:]:
        item, title, year, cls = row.split("\t")
        flags = ["1" if g in cls.split() else "0" for g in genres]
        lines.append("|".join([item, f"{title} ({year})", f"01-Jan-{year}", "", "http://"] + flags) + "\n")
    (out / "u.item").write_bytes("".join(lines).encode("latin-1", errors="replace"))
    return out


def test_two_layouts_identical(ml100k, tmp_path):
    gl = write_grouplens_copy(ml100k, tmp_path / "gl")
    a = D.load("movielens-100k", data_dir=ml100k, cache=False)
    b = D.load("movielens-100k", data_dir=gl, cache=False)
    assert (a.info["raw_layout"], b.info["raw_layout"]) == ("recbole-atomic", "grouplens")
    assert a.fingerprint() == b.fingerprint()
    for k, s in a.splits.items():
        t = b.splits[k]
        for f in ("user", "item", "time", "label", "hist_item", "hist_time", "hist_len"):
            np.testing.assert_array_equal(getattr(s, f), getattr(t, f), err_msg=f"{k}.{f}")
    np.testing.assert_array_equal(a.user_aux, b.user_aux)
    for key in ("user", "item", "category"):
        np.testing.assert_array_equal(a.raw_ids[key], b.raw_ids[key])
    assert {k: v for k, v in a.info.items() if k not in ("raw_layout", "cache")} == \
        {k: v for k, v in b.info.items() if k not in ("raw_layout", "cache")}


def test_first_use_fetch(ml100k, tmp_path, monkeypatch, capsys):
    """``load("movielens-100k")`` with nothing in the default folder fetches (pip replaced by a
    local copy of the wheel), says what and where on stderr, and is off with TACR_NO_FETCH."""
    whl = wheel_from(ml100k, tmp_path / "recbole-1.2.1-py3-none-any.whl")
    calls = []
    monkeypatch.setattr(F, "download_wheel", lambda req, dest, **kw: calls.append(req) or whl)
    monkeypatch.setenv("TACR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TACR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("TACR_NO_FETCH", "1")
    with pytest.raises(DataError, match=r"(?s)u\.item.*grouplens\.org.*ml-100k\.inter.*python -m tacr\.data\.fetch"):
        D.load("movielens-100k")
    assert calls == []
    monkeypatch.delenv("TACR_NO_FETCH")
    with pytest.raises(DataError):
        D.load("movielens-100k", fetch=False)
    d = D.load("movielens-100k")
    err = capsys.readouterr().err
    assert calls == ["recbole==1.2.1"] and "recbole==1.2.1" in err and str(tmp_path / "data" / "ml-100k") in err
    assert "Harper" in err and "redistribut" in err  # the terms
    assert len(d.test) == 8_838
    folder = tmp_path / "data" / "ml-100k"
    assert sorted(p.name for p in folder.iterdir()) == [".gitignore", "SOURCE.txt", *sorted(SRC.files)]
    assert [p.name for p in (tmp_path / "data").iterdir()] == ["ml-100k"]  # no staging folder left
    assert D.load("movielens-100k").info["cache"] == "hit" and len(calls) == 1  # no second fetch
    assert F.main(["movielens-100k"]) == 0 and len(calls) == 1  # present: checked, kept


# --------------------------------------------------------------------------- offline routes
def test_no_registry_gives_manual_route(tmp_path, monkeypatch):
    def refuse(req, dest, **kw):
        raise DataError(f"pip download {req} failed (exit 1):\nERROR: No matching distribution found")

    monkeypatch.setattr(F, "download_wheel", refuse)
    with pytest.raises(DataError, match=r"(?s)cannot fetch.*No matching distribution.*Manual route: download "
                                        r"ml-100k\.zip from https://grouplens\.org/datasets/movielens/100k/"):
        F.fetch("movielens-100k", tmp_path / "ml-100k")
    assert list(tmp_path.iterdir()) == []  # nothing half-written
    assert F.main(["movielens-100k", "--data-dir", str(tmp_path / "x")]) == 1


def test_wrong_content_refused(tmp_path):
    whl = fake_wheel(tmp_path / "w.whl", {f: b"user_id:token\n" for f in SRC.files})
    with pytest.raises(DataError, match=r"ml-100k\.inter has SHA-256 .* expected 4edb74e2"):
        F.fetch("movielens-100k", tmp_path / "ml-100k", wheel=whl)
    incomplete = fake_wheel(tmp_path / "v.whl", {"ml-100k.inter": b""})
    with pytest.raises(DataError, match=r"has no recbole/dataset_example/ml-100k/ml-100k\.item"):
        F.fetch("movielens-100k", tmp_path / "ml-100k", wheel=incomplete)
    (tmp_path / "z.whl").write_bytes(b"not a zip")
    with pytest.raises(DataError, match=r"not a valid wheel"):
        F.fetch("movielens-100k", tmp_path / "ml-100k", wheel=tmp_path / "z.whl")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.whl", "w.whl", "z.whl"]


def test_wheel_into_existing_folder(ml100k, tmp_path):
    """A target that exists (here with other files) receives the files one by one."""
    whl = wheel_from(ml100k, tmp_path / "r.whl")
    target = tmp_path / "d" / "ml-100k"
    target.mkdir(parents=True)
    (target / "notes.txt").write_text("mine")
    assert F.fetch("movielens-100k", target, wheel=whl, quiet=True) == target.absolute()
    assert (target / "notes.txt").read_text() == "mine" and F.present(target)
    assert [p.name for p in (tmp_path / "d").iterdir()] == ["ml-100k"]


def test_damaged_files_named(ml100k, tmp_path):
    target = tmp_path / "ml-100k"
    shutil.copytree(ml100k, target, ignore=shutil.ignore_patterns(".tacr_cache"))
    (target / "ml-100k.user").write_text("user_id:token\n1\n")
    with pytest.raises(DataError, match=r"(?s)ml-100k\.user has SHA-256.*--force"):
        F.fetch("movielens-100k", target)
    whl = wheel_from(ml100k, tmp_path / "r.whl")
    F.fetch("movielens-100k", target, force=True, wheel=whl, quiet=True)
    assert F.sha256(target / "ml-100k.user") == SRC.files["ml-100k.user"]


@pytest.mark.parametrize("name,folder", [("movielens-100k", "ml-100k"), ("movielens-1m", "ml-1m")])
def test_user_id_aux_option(name, folder, tmp_path):
    """Opt-in: the user id as one more aux field; splits unchanged, default cache key unchanged."""
    fix = Path(__file__).parent / "fixtures" / folder
    a = D.load(name, data_dir=fix, cache=False)
    b = D.load(name, data_dir=fix, cache=False, user_id_aux=True)
    assert b.aux_names == a.aux_names + ("user_id",) and b.aux_sizes == a.aux_sizes + (a.n_users + 1,)
    np.testing.assert_array_equal(b.user_aux[:, :-1], a.user_aux)
    assert b.user_aux[:, -1].tolist() == list(range(1, a.n_users + 1))
    for k, s in a.splits.items():
        np.testing.assert_array_equal(s.hist_item, b.splits[k].hist_item)
    c = D.load(name, data_dir=fix, cache_dir=tmp_path, user_id_aux=True)
    assert c.info["cache"] == "written" and D.load(name, data_dir=fix, cache_dir=tmp_path).info["cache"] == "written"
    assert D.load(name, data_dir=fix, cache_dir=tmp_path, user_id_aux=True).user_aux.shape[1] == 4


# --------------------------------------------------------------------------- a notebook on the real files
@pytest.mark.notebooks
def test_smoke_notebooks_on_real_files(ml100k, tmp_path, monkeypatch):
    """Table 1's and Table 2's notebooks on the fetched files at the dataset's default loader
    options (the user id as a field), smoke profile, DIN only (seconds): trained and scored on
    the real test split, its tables written."""
    from test_notebooks import ROOT, execute_in_process

    for var, sub in (("TACR_CACHE_DIR", "data-cache"), ("TACR_FIGURES", "figures"), ("TACR_CACHE", "runs")):
        monkeypatch.setenv(var, str(tmp_path / sub))
    common = dict(dataset="movielens-100k", data_dir=str(ml100k), profile="smoke", seeds=[0])
    ns = execute_in_process(ROOT / "notebooks" / "01_data.py", **common)
    assert ns["S"].data.name == "movielens-100k" and len(ns["S"].data.test) == 8_838
    assert "aux_user_id" in ns["S"].data.info
    ns = execute_in_process(ROOT / "notebooks" / "02_embedding_comparison.py", **common, epochs=2, workers=1,
                            models=["din"], sampler="uniform")
    runs = ns["runs"]
    assert set(runs["model"]) == {"din"} and len(runs) == 2 and runs["test_auc"].between(0.6, 0.8).all()
    for name in ("table1_data.md", "table2_embedding.md", "table2_baselines.md"):
        assert (tmp_path / "figures" / name).exists(), name
