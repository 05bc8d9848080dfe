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
embedding, SPEC §1). Many ratings share a second; a history holds strictly earlier clicks only.
Split by time: the last ``test_frac`` of the time span is test, the ``valid_frac`` before it
validation (or fractions of the rows, ``split_by="rows"``, or explicit bounds).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from . import register
from .cache import cached
from .schema import CTRData, Items, assemble, check_log
from .readers import (RAW_FEATURES_NONE, attach_ids, bad, code_column, column_numpy, lookup_sorted, read_csv,
                    reindex, require_files, resolve_data_dir, split_bounds, split_info)

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
URL_1M = "https://grouplens.org/datasets/movielens/1m/"
URL_100K = "https://grouplens.org/datasets/movielens/100k/"


def age_bucket(age: np.ndarray) -> np.ndarray:
    """Codes 1..7 of ML-1M's age groups (0 = unknown, for negative ages)."""
    age = np.asarray(age, dtype=np.int64)
    return np.where(age >= 0, 1 + np.searchsorted(AGE_EDGES, age, side="right"), 0)


def _common_params(rating_threshold, threshold, L, valid_frac, test_frac, split_by, valid_start, test_start, test_end, tz):
    return dict(rating_threshold=rating_threshold if threshold is None else threshold, L=L, valid_frac=valid_frac, test_frac=test_frac, split_by=split_by,
                valid_start=valid_start, test_start=test_start, test_end=test_end, tz=tz)


@register("movielens-1m")
def load_movielens_1m(data_dir=None, *, rating_threshold: float = 4, L: int = 10, valid_frac: float = 0.1,
                      test_frac: float = 0.1, split_by: str = "span", valid_start=None, test_start=None,
                      test_end=None, tz: str = TZ, cache: bool = True, cache_dir=None, threshold=None) -> CTRData:
    """MovieLens 1M. ``data_dir`` holds ratings.dat, users.dat, movies.dat (or its sub-folder
    ``ml-1m``; default ``$TACR_DATA_DIR/ml-1m``). ``rating_threshold`` (alias ``threshold``): the
    lowest rating that counts as a click. Split parameters: :func:`tacr.data.table.split_bounds`. ``cache``, ``cache_dir``:
    :mod:`tacr.data.cache`."""
    folder, files = require_files(resolve_data_dir(data_dir, "ml-1m"), FILES_1M, "movielens-1m", URL_1M,
                                  subfolders=("ml-1m",))
    params = _common_params(rating_threshold, threshold, L, valid_frac, test_frac, split_by, valid_start, test_start, test_end, tz)
    return cached("movielens-1m", params, list(files.values()), lambda: _build_1m(files, **params),
                  data_dir=folder, enabled=cache, cache_dir=cache_dir)


@register("movielens-100k")
def load_movielens_100k(data_dir=None, *, rating_threshold: float = 4, L: int = 10, valid_frac: float = 0.1,
                        test_frac: float = 0.1, split_by: str = "span", valid_start=None, test_start=None,
                        test_end=None, tz: str = TZ, cache: bool = True, cache_dir=None, threshold=None) -> CTRData:
    """MovieLens 100K. ``data_dir`` holds u.data, u.user, u.item (or its sub-folder ``ml-100k``;
    default ``$TACR_DATA_DIR/ml-100k``). Parameters as :func:`load_movielens_1m`."""
    folder, files = require_files(resolve_data_dir(data_dir, "ml-100k"), FILES_100K, "movielens-100k", URL_100K,
                                  subfolders=("ml-100k",))
    params = _common_params(rating_threshold, threshold, L, valid_frac, test_frac, split_by, valid_start, test_start, test_end, tz)
    return cached("movielens-100k", params, list(files.values()), lambda: _build_100k(files, **params),
                  data_dir=folder, enabled=cache, cache_dir=cache_dir)


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
def _build_1m(files, **params) -> CTRData:
    ratings = read_ratings_1m(files["ratings.dat"])
    users = read_users_1m(files["users.dat"])
    movies = read_movies_1m(files["movies.dat"])
    users["gender_code"] = code_column(users["gender"], ["M", "F"])[0]
    users["age_code"] = age_bucket(users["age"].fillna(-1).to_numpy())
    occ = users["occupation"].fillna(-1).to_numpy(dtype=np.int64)
    users["occupation_code"] = np.where((occ >= 0) & (occ < len(ML1M_OCCUPATIONS)), occ + 1, 0)
    sizes = (3, len(AGE_BUCKETS) + 1, len(ML1M_OCCUPATIONS) + 1)
    occ_names = ML1M_OCCUPATIONS
    return _build("movielens-1m", files, ratings, users, movies, GENRES, sizes, occ_names, **params)


def _build_100k(files, **params) -> CTRData:
    ratings = read_ratings_100k(files["u.data"])
    users = read_users_100k(files["u.user"])
    movies = read_movies_100k(files["u.item"])
    users["gender_code"] = code_column(users["gender"], ["M", "F"])[0]
    users["age_code"] = age_bucket(users["age"].fillna(-1).to_numpy())
    codes, occ_vocab = code_column(users["occupation"])
    users["occupation_code"] = codes
    sizes = (3, len(AGE_BUCKETS) + 1, len(occ_vocab) + 1)
    return _build("movielens-100k", files, ratings, users, movies, GENRES_100K, sizes, tuple(occ_vocab), **params)


def _build(name, files, ratings, users, movies, genre_order, aux_sizes, occ_names, *, rating_threshold, L, valid_frac,
           test_frac, split_by, valid_start, test_start, test_end, tz) -> CTRData:
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
    bounds = split_bounds(t, tz=tz, valid_frac=valid_frac, test_frac=test_frac, split_by=split_by,
                          valid_start=valid_start, test_start=test_start, test_end=test_end)
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
    } | split_info(bounds, tz)
    data = assemble(name, log, Items(category=category, raw=None), user_aux, aux_sizes, L=L, tz=tz,
                    aux_names=AUX_NAMES, info=info, source=rfile, **bounds)
    return attach_ids(data, user=user_ids, item=item_ids, category=np.array(used, dtype=object), title=titles)
