"""MovieLens 1M and 100K (GroupLens) as impression logs in the canonical format.

* ``movielens-1m`` (https://grouplens.org/datasets/movielens/1m/): ``ratings.dat``
  ``UserID::MovieID::Rating::Timestamp``, ``users.dat`` ``UserID::Gender::Age::Occupation::Zip``,
  ``movies.dat`` ``MovieID::Title::Genres`` (genres joined by ``|``); ``::``-separated,
  Latin-1, no header.
* ``movielens-100k`` (https://grouplens.org/datasets/movielens/100k/): ``u.data`` tab-separated
  ``user item rating timestamp``; ``u.user`` ``id|age|gender|occupation|zip``; ``u.item``
  ``id|title|release|video release|IMDb URL|`` then 19 genre flags (unknown, Action, ...,
  Western); Latin-1, no header.

Decisions: a rating >= ``rating_threshold`` (default 4) is a click, a lower rating an observed
negative; every rating is an impression at its timestamp. Category = the movie's first listed
genre (100K: the first flag set; none set = "unknown"), re-indexed over the rated movies in
the genre list's order. Aux = gender, age bucket (1M's groups <18, 18-24, 25-34, 35-44, 45-49,
50-55, 56+; 100K's ages are bucketed the same way), occupation; code 0 = unknown. Users and
movies are the rated ones, re-indexed 0..n-1 in raw-id order (``data.raw_ids``: user, item,
category, title). No content features: ``items.raw`` is None (learned 50-d movie-id
embedding; :mod:`tacr.data.schema`). Many ratings share a second; a history holds strictly earlier clicks only.
Opt-in ``user_id_aux=True`` adds the user id as a fourth user field (code 1 + user index; the
paper's aux are attributes only). It is the MovieLens datasets' default for every row alike
(``tacr.profiles.DATASET_DEFAULTS``; docs/study.md, "Tuning"): the per-user term absorbs each
training user's rating propensity, so the item embeddings are learned net of who rated the item;
an unseen user keeps the small initial row of its code.
Split by time: the last ``test_frac`` of the time span is test, the ``valid_frac`` before it
validation (or fractions of the rows, ``split_by="rows"``, or explicit bounds: one
:class:`~tacr.data.split.SplitSpec`, :data:`SPLIT` by default).

MovieLens 100K also reads RecBole's atomic copy of it (``ml-100k.inter``, ``.item``, ``.user``:
the same 100,000 ratings, users and genres; :mod:`tacr.data.atomic`), which
``python -m tacr.data.fetch movielens-100k`` downloads from PyPI (:mod:`tacr.data.fetch`); both
layouts give the identical :class:`CTRData` (same splits and fingerprint; only ``info``'s
provenance and the titles' spelling differ). With neither layout in the default folder,
``load("movielens-100k")`` fetches the atomic files on first use (``fetch=False`` or
``TACR_NO_FETCH=1`` disables it).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from . import register
from .cache import cached
from .readers import (RAW_FEATURES_NONE, DataError, attach_ids, bad, code_column, column_numpy, lookup_sorted, read_csv,
                      reindex, require_files, resolve_data_dir)
from .schema import CTRData, Items, assemble, check_log
from .split import SplitSpec

GENRES = ("Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama",
          "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War",
          "Western")
GENRES_100K = ("unknown",) + GENRES
AGE_EDGES = (18, 25, 35, 45, 50, 56)  # ML-1M's age groups: 1 "<18", 18, 25, 35, 45, 50, 56 "56+"
AGE_BUCKETS = ("<18", "18-24", "25-34", "35-44", "45-49", "50-55", "56+")
ML1M_OCCUPATIONS = ("other", "academic/educator", "artist", "clerical/admin", "college/grad student",
                    "customer service", "doctor/health care", "executive/managerial", "farmer", "homemaker",
                    "K-12 student", "lawyer", "programmer", "retired", "sales/marketing", "scientist",
                    "self-employed", "technician/engineer", "tradesman/craftsman", "unemployed", "writer")
TZ = "America/Chicago"  # GroupLens, Minnesota; the users span the US time zones
AUX_NAMES = ("gender", "age", "occupation")

FILES_1M = {"ratings.dat": "UserID::MovieID::Rating::Timestamp",
            "users.dat": "UserID::Gender::Age::Occupation::Zip-code",
            "movies.dat": "MovieID::Title::Genres"}
FILES_100K = {"u.data": "user<TAB>item<TAB>rating<TAB>timestamp",
              "u.user": "user id|age|gender|occupation|zip code",
              "u.item": "movie id|title|release date|video release date|IMDb URL|19 genre flags"}
FILES_100K_ATOMIC = {"ml-100k.inter": "user_id:token<TAB>item_id:token<TAB>rating:float<TAB>timestamp:float",
                     "ml-100k.user": "user_id:token<TAB>age:token<TAB>gender:token<TAB>occupation:token<TAB>...",
                     "ml-100k.item": "item_id:token<TAB>movie_title:token_seq<TAB>release_year:token<TAB>class:token_seq"}
NO_FETCH_ENV = "TACR_NO_FETCH"
URL_1M = "https://grouplens.org/datasets/movielens/1m/"
URL_100K = "https://grouplens.org/datasets/movielens/100k/"


def age_bucket(age: np.ndarray) -> np.ndarray:
    """Codes 1..7 of ML-1M's age groups (0 = unknown, for negative ages)."""
    age = np.asarray(age, dtype=np.int64)
    return np.where(age >= 0, 1 + np.searchsorted(AGE_EDGES, age, side="right"), 0)


#: MovieLens's default split: the last 10 % of the time span test, the 10 % before it validation.
SPLIT = SplitSpec(tz=TZ)


def _options(rating_threshold, threshold, L, user_id_aux) -> dict:
    return dict(rating_threshold=float(rating_threshold if threshold is None else threshold), L=L, user_id_aux=user_id_aux)


@register("movielens-1m")
def load_movielens_1m(data_dir=None, *, split: SplitSpec = SPLIT, rating_threshold: float = 4, L: int = 10,
                      cache: bool = True, cache_dir=None, threshold: float | None = None,
                      user_id_aux: bool = False) -> CTRData:
    """MovieLens 1M. ``data_dir`` holds ratings.dat, users.dat, movies.dat (or its sub-folder
    ``ml-1m``; default ``$TACR_DATA_DIR/ml-1m``). ``split``: :class:`~tacr.data.split.SplitSpec`
    (default :data:`SPLIT`). ``rating_threshold`` (alias ``threshold``): the lowest rating that
    counts as a click. ``cache``, ``cache_dir``: :mod:`tacr.data.cache`. ``user_id_aux``: also code
    the user id as a fourth user field ("user_id", code 1 + user index), so the model learns a
    per-user term through its aux embedding; an opt-in departure (the paper's aux are user
    attributes only), see the module docstring."""
    folder, files = require_files(resolve_data_dir(data_dir, "ml-1m"), FILES_1M, "movielens-1m", URL_1M,
                                  subfolders=("ml-1m",))
    options = _options(rating_threshold, threshold, L, user_id_aux)
    return cached("movielens-1m", options, split, list(files.values()), lambda: _build_1m(files, split, **options),
                  data_dir=folder, enabled=cache, cache_dir=cache_dir)


@register("movielens-100k")
def load_movielens_100k(data_dir=None, *, split: SplitSpec = SPLIT, rating_threshold: float = 4, L: int = 10,
                        cache: bool = True, cache_dir=None, threshold: float | None = None,
                        fetch: bool | None = None, user_id_aux: bool = False) -> CTRData:
    """MovieLens 100K. ``data_dir`` holds GroupLens's u.data, u.user, u.item or RecBole's atomic
    ml-100k.inter, ml-100k.user, ml-100k.item (or its sub-folder ``ml-100k``; default
    ``$TACR_DATA_DIR/ml-100k``, else ``./data/ml-100k``). Options as :func:`load_movielens_1m`.

    ``fetch``: when neither layout is there, download the atomic files with
    :func:`tacr.data.fetch.fetch` first. None (default): only into the default folder
    (``data_dir`` None) and unless ``$TACR_NO_FETCH`` is set; True: into any folder; False: never.
    """
    folder, files, layout = _find_100k(data_dir, fetch)
    options = _options(rating_threshold, threshold, L, user_id_aux)
    build = _build_100k if layout == "grouplens" else _build_100k_atomic
    return cached("movielens-100k", options, split, list(files.values()), lambda: build(files, split, **options),
                  data_dir=folder, enabled=cache, cache_dir=cache_dir)


def _fetch_allowed(data_dir, fetch: bool | None) -> bool:
    import os

    if fetch is not None:
        return bool(fetch)
    return data_dir is None and os.environ.get(NO_FETCH_ENV, "").strip().lower() in ("", "0", "false", "no")


def _find_100k(data_dir, fetch: bool | None) -> tuple[Path, dict[str, Path], str]:
    """(folder, files, "grouplens" | "atomic"): GroupLens's layout first, then RecBole's atomic
    files, then (if allowed) fetch the atomic files; otherwise a DataError naming both layouts."""
    folder = resolve_data_dir(data_dir, "ml-100k")
    for layout, expected in (("grouplens", FILES_100K), ("atomic", FILES_100K_ATOMIC)):
        for d in (folder, folder / "ml-100k"):
            if all((d / f).is_file() for f in expected):
                return d, {f: d / f for f in expected}, layout
    if _fetch_allowed(data_dir, fetch):
        from .fetch import fetch as fetch_dataset

        fetch_dataset("movielens-100k", folder)
        return folder, {f: folder / f for f in FILES_100K_ATOMIC}, "atomic"
    try:
        require_files(folder, FILES_100K, "movielens-100k", URL_100K, subfolders=("ml-100k",))
    except DataError as exc:
        atomic = ", ".join(FILES_100K_ATOMIC)
        raise DataError(f"{exc}\nOr RecBole's atomic copy ({atomic}) in the same folder, which "
                        f"`python -m tacr.data.fetch movielens-100k --data-dir {str(folder)!r}` downloads "
                        f"(or load(..., fetch=True)).") from None
    raise AssertionError("unreachable")  # pragma: no cover


# --------------------------------------------------------------------------------- readers
_RATING_TYPES = {"user": pa.int64(), "movie": pa.int64(), "rating": pa.float64(), "time": pa.int64()}


def read_ratings_1m(path) -> pd.DataFrame:
    t = read_csv(path, _RATING_TYPES, names=list(_RATING_TYPES), delimiter="::", encoding="latin-1")
    return t.to_pandas()


def read_ratings_100k(path) -> pd.DataFrame:
    t = read_csv(path, _RATING_TYPES, names=list(_RATING_TYPES), delimiter="\t", encoding="latin-1")
    return t.to_pandas()


def read_users_1m(path) -> pd.DataFrame:
    names = ["user", "gender", "age", "occupation", "zip"]
    t = read_csv(path, {"user": pa.int64(), "gender": pa.string(), "age": pa.int64(), "occupation": pa.int64()},
                 names=names, delimiter="::", encoding="latin-1", required=["user"])
    return t.to_pandas()


def read_users_100k(path) -> pd.DataFrame:
    names = ["user", "age", "gender", "occupation", "zip"]
    t = read_csv(path, {"user": pa.int64(), "age": pa.int64(), "gender": pa.string(), "occupation": pa.string()},
                 names=names, delimiter="|", encoding="latin-1", required=["user"])
    return t.to_pandas()


def read_movies_1m(path) -> pd.DataFrame:
    t = read_csv(path, {"movie": pa.int64(), "title": pa.string(), "genres": pa.string()},
                 names=["movie", "title", "genres"], delimiter="::", encoding="latin-1", required=["movie"])
    df = t.to_pandas()
    first = df["genres"].fillna("").str.split("|").str[0]
    df["genre"] = first.where(first != "", "unknown")
    return df[["movie", "title", "genre"]]


def read_movies_100k(path) -> pd.DataFrame:
    names = ["movie", "title", "release", "video_release", "url"] + [f"g{j}" for j in range(len(GENRES_100K))]
    types = {"movie": pa.int64(), "title": pa.string()} | {f"g{j}": pa.int8() for j in range(len(GENRES_100K))}
    t = read_csv(path, types, names=names, delimiter="|", encoding="latin-1", required=["movie"])
    flags = np.stack([column_numpy(t, f"g{j}", fill=0) for j in range(len(GENRES_100K))], axis=1) > 0
    first = np.where(flags.any(axis=1), flags.argmax(axis=1), 0)
    return pd.DataFrame({"movie": column_numpy(t, "movie"), "title": t.column("title").to_pandas(),
                         "genre": np.asarray(GENRES_100K, dtype=object)[first]})


# ---------------------------------------------------------------------------------- common
def _build_1m(files, split: SplitSpec, **options) -> CTRData:
    ratings = read_ratings_1m(files["ratings.dat"])
    users = read_users_1m(files["users.dat"])
    movies = read_movies_1m(files["movies.dat"])
    users["gender_code"] = code_column(users["gender"], ["M", "F"])[0]
    users["age_code"] = age_bucket(users["age"].fillna(-1).to_numpy())
    occ = users["occupation"].fillna(-1).to_numpy(dtype=np.int64)
    users["occupation_code"] = np.where((occ >= 0) & (occ < len(ML1M_OCCUPATIONS)), occ + 1, 0)
    sizes = (3, len(AGE_BUCKETS) + 1, len(ML1M_OCCUPATIONS) + 1)
    occ_names = ML1M_OCCUPATIONS
    return _build("movielens-1m", files, split, ratings, users, movies, GENRES, sizes, occ_names, **options)


def _build_100k(files, split: SplitSpec, **options) -> CTRData:
    return _code_100k(files, split, read_ratings_100k(files["u.data"]), read_users_100k(files["u.user"]),
                      read_movies_100k(files["u.item"]), "grouplens", **options)


def _code_100k(files, split: SplitSpec, ratings, users, movies, layout: str, **options) -> CTRData:
    """ML-100K's user fields coded (gender, age bucket, occupation), whichever layout was read."""
    users["gender_code"] = code_column(users["gender"], ["M", "F"])[0]
    users["age_code"] = age_bucket(users["age"].fillna(-1).to_numpy())
    codes, occ_vocab = code_column(users["occupation"])
    users["occupation_code"] = codes
    sizes = (3, len(AGE_BUCKETS) + 1, len(occ_vocab) + 1)
    data = _build("movielens-100k", files, split, ratings, users, movies, GENRES_100K, sizes, tuple(occ_vocab),
                  **options)
    data.info["raw_layout"] = layout
    return data


def read_ratings_100k_atomic(path) -> pd.DataFrame:
    """``ml-100k.inter`` as :func:`read_ratings_100k`'s frame (ids as integers, whole seconds)."""
    from .atomic import read_atomic, unix_seconds

    df = read_atomic(path, {"user_id": pa.int64(), "item_id": pa.int64(), "rating": pa.float64(),
                            "timestamp": pa.float64()}, required=["user_id", "item_id", "rating", "timestamp"])
    t = unix_seconds(df["timestamp"], Path(path).name, "timestamp")
    if (nb := int((df["timestamp"].to_numpy() != t).sum())):
        raise bad(Path(path).name, "timestamp", nb, "not a whole number of seconds")
    return pd.DataFrame({"user": df["user_id"].to_numpy(), "movie": df["item_id"].to_numpy(),
                         "rating": df["rating"].to_numpy(), "time": t})


def read_users_100k_atomic(path) -> pd.DataFrame:
    """``ml-100k.user`` as :func:`read_users_100k`'s frame."""
    from .atomic import read_atomic

    df = read_atomic(path, {"user_id": pa.int64(), "age": pa.int64(), "gender": pa.string(),
                            "occupation": pa.string()}, required=["user_id"])
    return df.rename(columns={"user_id": "user"})


def read_movies_100k_atomic(path) -> pd.DataFrame:
    """``ml-100k.item`` as :func:`read_movies_100k`'s frame: the genre is the first of the
    ``class`` tokens in u.item's flag order (RecBole lists them in that order), none = "unknown";
    the title gets u.item's " (year)" suffix back from ``release_year``."""
    from .atomic import read_atomic

    src = Path(path).name
    df = read_atomic(path, {"item_id": pa.int64(), "movie_title": pa.string(), "release_year": pa.string(),
                            "class": pa.string()}, required=["item_id"])
    order = {g: j for j, g in enumerate(GENRES_100K)}
    tokens = df["class"].fillna("").str.split()
    unknown = tokens.map(lambda ts: [g for g in ts if g not in order])
    if (nb := int((unknown.map(len) > 0).sum())):
        first = next(u for u in unknown if u)[0]
        raise bad(src, "class", nb, f"genre not among MovieLens 100K's 19 (e.g. {first!r})")
    genre = tokens.map(lambda ts: min(ts, key=order.__getitem__) if ts else "unknown")
    year = df["release_year"].fillna("")
    title = df["movie_title"].fillna("").where(~year.str.fullmatch(r"\d{4}"), df["movie_title"].fillna("") + " (" + year + ")")
    return pd.DataFrame({"movie": df["item_id"].to_numpy(), "title": title.to_numpy(), "genre": genre.to_numpy()})


def _build_100k_atomic(files, split: SplitSpec, **options) -> CTRData:
    """ML-100K from RecBole's atomic files, through the same coding as :func:`_build_100k`."""
    return _code_100k(files, split, read_ratings_100k_atomic(files["ml-100k.inter"]),
                      read_users_100k_atomic(files["ml-100k.user"]), read_movies_100k_atomic(files["ml-100k.item"]),
                      "recbole-atomic", **options)


def _build(name, files, split: SplitSpec, ratings, users, movies, genre_order, aux_sizes, occ_names, *, rating_threshold,
           L, user_id_aux) -> CTRData:
    rfile = next(iter(files.values())).name
    mfile = list(files.values())[2].name
    if (nb := int(((ratings["rating"] < 0) | (ratings["rating"] > 5)).sum())):
        raise bad(rfile, "rating", nb, "rating outside [0, 5]")
    label = (ratings["rating"].to_numpy() >= rating_threshold).astype(np.int8)

    movies = movies.drop_duplicates("movie").sort_values("movie")
    item, item_ids = reindex(ratings["movie"].to_numpy())
    pos, found = lookup_sorted(item_ids, movies["movie"].to_numpy())
    if not found.all():
        raise bad(rfile, "movie", int((~found)[item].sum()),
                  f"{int((~found).sum())} movie id(s) not in {mfile} (e.g. {int(item_ids[~found][0])})")
    genre = movies["genre"].to_numpy()[pos]
    order = {g: j for j, g in enumerate(genre_order)}
    used = sorted(set(genre), key=lambda g: (order.get(g, len(order)), g))
    cat_index = {g: j for j, g in enumerate(used)}
    category = np.array([cat_index[g] for g in genre], dtype=np.int64)
    titles = movies["title"].to_numpy()[pos]

    users = users.drop_duplicates("user").sort_values("user")
    user, user_ids = reindex(ratings["user"].to_numpy())
    upos, ufound = lookup_sorted(user_ids, users["user"].to_numpy())
    aux_cols = ["gender_code", "age_code", "occupation_code"]
    aux_table = users[aux_cols].to_numpy(dtype=np.int64)
    user_aux = (np.where(ufound[:, None], aux_table[upos], 0) if len(aux_table)
                else np.zeros((len(user_ids), len(aux_cols)), dtype=np.int64))

    t = ratings["time"].to_numpy()
    log = pd.DataFrame({"user": user, "item": item, "time": t, "label": label})
    check_log(log, rfile)
    bounds = split.bounds(t)
    _, tie_counts = np.unique(np.stack([user, t]), axis=1, return_counts=True)
    info = {
        "source": name, "rating_threshold": rating_threshold, "n_rows": int(len(log)), "n_users": int(len(user_ids)),
        "n_items": int(len(item_ids)), "n_categories": len(used), "n_clicks": int(label.sum()),
        "n_users_without_profile": int((~ufound).sum()), "n_movies_listed": int(len(movies)),
        "n_users_listed": int(len(users)),
        "n_rows_sharing_user_second": int(tie_counts[tie_counts > 1].sum()),
        "raw_features": RAW_FEATURES_NONE,
        "aux_vocab_gender": ["M", "F"], "aux_vocab_age": list(AGE_BUCKETS), "aux_vocab_occupation": list(occ_names),
        "categories": used,
    } | split.info(bounds)
    aux_names = AUX_NAMES
    if user_id_aux:
        user_aux = np.concatenate([user_aux, 1 + np.arange(len(user_ids), dtype=np.int64)[:, None]], axis=1)
        aux_sizes, aux_names = tuple(aux_sizes) + (len(user_ids) + 1,), AUX_NAMES + ("user_id",)
        info["aux_user_id"] = "user id coded as an aux field: 1 + user index (user_id_aux=True)"
    data = assemble(name, log, Items(category=category, raw=None), user_aux, aux_sizes, L=L, tz=split.tz,
                    aux_names=aux_names, info=info, source=rfile, **bounds)
    return attach_ids(data, user=user_ids, item=item_ids, category=np.array(used, dtype=object), title=titles)
