"""The RecBole atomic-file loader (``load("atomic")``) on small files written here, well-formed and
malformed: the field mapping, the click rule, categories, user aux, the cache, the errors."""
from __future__ import annotations

import numpy as np
import pytest

import tacr.data as D
from tacr.data import DataError
from tacr.data.atomic import first_token, read_header

T0 = 978300000
INTER = [  # user, item, rating, seconds after T0; rating >= 4 is a click
    ("1", "101", 5, 0), ("1", "102", 4, 0), ("2", "103", 2, 50), ("10", "101", 4, 100), ("1", "103", 1, 200),
    ("2", "101", 5, 300), ("10", "104", 3, 400), ("2", "105", 4, 500), ("1", "104", 5, 700),
    ("2", "102", 3, 810), ("10", "105", 5, 850), ("1", "105", 2, 880),  # validation: [T0 + 800, T0 + 900)
    ("10", "103", 5, 900), ("2", "104", 1, 950), ("1", "101", 3, 999),  # test
]
ITEM = ["item_id:token\ttitle:token_seq\tgenre:token_seq\tprice:float",
        "101\tAlpha One\tDrama Comedy\t1.5", "102\tBeta\tAction\t2", "103\tGamma\t\t3", "104\tDelta\tComedy Drama\t4"]
USER = ["user_id:token\tage:token\tgender:token\tzip:token", "1\t24\tM\t55455", "2\t53\tF\t"]


def inter_text(rows=INTER, header="user_id:token\titem_id:token\trating:float\ttimestamp:float", label=None):
    lines = [header + ("\tlabel:float" if label else "")]
    for j, (u, i, r, dt) in enumerate(rows):
        lines.append(f"{u}\t{i}\t{r}\t{T0 + dt}" + (f"\t{label[j]}" if label else ""))
    return "\n".join(lines) + "\n"


def write(folder, name="toy", inter=None, item=ITEM, user=USER):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.inter").write_text(inter if inter is not None else inter_text())
    if item is not None:
        (folder / f"{name}.item").write_text("\n".join(item) + "\n")
    if user is not None:
        (folder / f"{name}.user").write_text("\n".join(user) + "\n")
    return folder


def load(folder, **kw):
    return D.load("atomic", data_dir=folder, cache=False, **kw)


def raw_rows(d, split):
    s, ids = d.splits[split], d.raw_ids
    return sorted((int(ids["user"][u]), int(ids["item"][i]), int(t - T0), int(y))
                  for u, i, t, y in zip(s.user, s.item, s.time, s.label))


def test_mapping(tmp_path):
    d = load(write(tmp_path / "toy"))
    ids = d.raw_ids
    assert d.name == "toy" and d.items.raw is None and d.info["source"] == "recbole-atomic"
    assert ids["user"].tolist() == [1, 2, 10]  # integer tokens sort as numbers
    assert ids["item"].tolist() == [101, 102, 103, 104, 105]
    assert d.info["label_rule"] == "rating >= 4" and d.info["n_clicks"] == 8 and d.info["n_rows"] == 15
    # split by the time span: last 10 % test, the 10 % before validation
    assert (d.info["valid_start"], d.info["test_start"]) == (T0 + 800, T0 + 900)
    assert raw_rows(d, "valid") == [(1, 105, 880, 0), (2, 102, 810, 0), (10, 105, 850, 1)]
    assert raw_rows(d, "test") == [(1, 101, 999, 0), (2, 104, 950, 0), (10, 103, 900, 1)]
    # category: first token of the "genre" token_seq ("auto"); empty value or no .item row -> "(none)"
    cat = dict(zip(ids["item"].tolist(), ids["category"][d.items.category]))
    assert cat == {101: "Drama", 102: "Action", 103: "(none)", 104: "Comedy", 105: "(none)"}
    assert d.info["category_field"] == "genre" and d.info["n_items_without_item_row"] == 1
    assert d.info["n_items_without_category"] == 2 and d.spec.n_categories == 4
    # aux: every user token field; codes 1..k over sorted values, 0 = missing; user 10 has no row
    assert d.aux_names == ("age", "gender", "zip") and d.aux_sizes == (3, 3, 2)
    assert d.user_aux.tolist() == [[1, 2, 1], [2, 1, 0], [0, 0, 0]]
    assert d.info["aux_vocab_age"] == [24, 53] and d.info["n_users_without_profile"] == 1
    # history: user 1's clicks strictly before its test row, oldest first (101 and 102 tie at T0)
    (r,) = np.flatnonzero((d.test.user == 0) & (d.test.time == T0 + 999))
    hist = [int(ids["item"][i]) for i in d.test.hist_item[r, :d.test.hist_len[r]]]
    assert sorted(hist[:2]) == [101, 102] and hist[2:] == [104]


def test_options(tmp_path):
    folder = write(tmp_path / "toy")
    d = load(folder, rating_threshold=5, category_field=None, aux_fields=["gender"], dataset="toy")
    assert d.info["n_clicks"] == 5 and d.spec.n_categories == 1 and d.info["category_field"] is None
    assert d.aux_names == ("gender",) and d.user_aux[:, 0].tolist() == [2, 1, 0]
    labels = [1, 0] * 7 + [1]
    (folder / "toy.inter").write_text(inter_text(label=labels))
    d = load(folder, aux_fields=())
    assert d.info["label_rule"] == "field 'label'" and d.info["n_clicks"] == sum(labels)
    assert d.user_aux.shape == (3, 0)
    # renamed fields, no .item / .user file, a sub-folder named like the dataset
    inter = inter_text(header="uid:token\tiid:token\tstars:float\tts:float")
    sub = write(tmp_path / "root" / "shop", name="shop", inter=inter, item=None, user=None)
    d = load(sub.parent, dataset="shop", user_field="uid", item_field="iid", rating_field="stars", time_field="ts")
    assert d.name == "shop" and d.spec.n_categories == 1 and d.user_aux.shape == (3, 0)
    assert sum(len(s) for s in d.splits.values()) == 15


def test_first_token_and_header(tmp_path):
    import pandas as pd

    got = first_token(pd.Series(["Drama Comedy", " Action ", "", None, "Sci-Fi"]))
    assert got.tolist() == ["Drama", "Action", None, None, "Sci-Fi"]
    f = tmp_path / "x.inter"
    f.write_text("a:token\tb:token_seq\tc:float\td:float_seq\n")
    assert read_header(f) == {"a": "token", "b": "token_seq", "c": "float", "d": "float_seq"}


def test_cache(tmp_path):
    folder = write(tmp_path / "toy")
    a = D.load("atomic", data_dir=folder, cache_dir=tmp_path / "c")
    b = D.load("atomic", data_dir=folder, cache_dir=tmp_path / "c")
    assert a.info["cache"] == "written" and b.info["cache"] == "hit"
    assert a.fingerprint() == b.fingerprint() and b.raw_ids["item"].tolist() == [101, 102, 103, 104, 105]
    c = D.load("atomic", data_dir=folder, cache_dir=tmp_path / "c", rating_threshold=5)
    assert c.info["cache"] == "written" and c.info["n_clicks"] == 5


def test_missing_files(tmp_path):
    with pytest.raises(DataError, match=r"does not exist"):
        load(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"\*\.inter: column '\(file\)': 0 bad rows: no \.inter file"):
        load(tmp_path / "empty")
    with pytest.raises(DataError, match=r"other\.inter: .*file not found"):
        load(write(tmp_path / "toy"), dataset="other")
    write(tmp_path / "toy", name="second")
    with pytest.raises(DataError, match=r"several \.inter files.*give dataset="):
        load(tmp_path / "toy")


@pytest.mark.parametrize("header,match", [
    ("user_id\titem_id:token\trating:float\ttimestamp:float",
     r"toy\.inter: column 'user_id': 1 bad row: header field 'user_id' has no type"),
    ("user_id:token\titem_id:token\trating:int\ttimestamp:float",
     r"toy\.inter: column 'rating': 1 bad row: header field 'rating:int': unknown type 'int'"),
    ("user_id:token\titem_id:token\trating:float\ttime:float",
     r"toy\.inter: column 'timestamp': 0 bad rows: field missing; the header has"),
    ("user_id:token\titem_id:token\tscore:float\ttimestamp:float",
     r"toy\.inter: column 'label': 0 bad rows: no click field: neither 'label' nor 'rating'"),
])
def test_bad_header(tmp_path, header, match):
    folder = write(tmp_path / "toy", inter=inter_text(header=header))
    with pytest.raises(DataError, match=match):
        load(folder)


def test_bad_values(tmp_path):
    rows = list(INTER)
    rows[3] = ("10", "101", "four", 100)
    rows[5] = ("2", "101", "?", 300)
    with pytest.raises(DataError, match=r"toy\.inter: column 'rating(:float)?': 2 bad rows: not a valid double"):
        load(write(tmp_path / "a", inter=inter_text(rows)))
    rows = list(INTER)
    rows[0] = ("", "101", 5, 0)
    with pytest.raises(DataError, match=r"toy\.inter: column 'user_id(:token)?': 1 bad row: empty value"):
        load(write(tmp_path / "b", inter=inter_text(rows)))
    text = inter_text().replace(f"1\t102\t4\t{T0}\n", "1\t102\t4\n")
    with pytest.raises(DataError, match=r"toy\.inter: column '[^']+': 1 bad row: wrong number of fields"):
        load(write(tmp_path / "c", inter=text))
    with pytest.raises(DataError, match=r"toy\.inter: column 'label': 1 bad row: label outside \{0, 1\}"):
        load(write(tmp_path / "d", inter=inter_text(label=[1, 0] * 7 + [2])))
    with pytest.raises(DataError, match=r"toy\.item: column 'price': 0 bad rows: field has type 'float', "
                                        r"expected token or token_seq"):
        load(write(tmp_path / "e"), category_field="price")
    with pytest.raises(DataError, match=r"toy\.item: column 'nope': 0 bad rows: field missing"):
        load(write(tmp_path / "f"), category_field="nope")
    with pytest.raises(DataError, match=r"toy\.user: column 'age(:token)?': 1 bad row: wrong number of fields|"
                                        r"toy\.user: column '[^']+': 1 bad row: wrong number of fields"):
        load(write(tmp_path / "g", user=USER + ["3\t30"]))


def test_user_id_as_aux_field(tmp_path):
    d = load(write(tmp_path / "toy"), aux_fields=["gender", "user_id"])
    assert d.aux_names == ("gender", "user_id") and d.aux_sizes == (3, 4)
    assert d.user_aux.tolist() == [[2, 1], [1, 2], [0, 3]]  # users 1, 2, 10: codes 1 + index
    d = load(write(tmp_path / "bare", user=None), aux_fields=["user_id"])  # no .user file needed
    assert d.user_aux[:, 0].tolist() == [1, 2, 3]
    with pytest.raises(DataError, match=r"column 'gender': 0 bad rows: aux_fields given but the dataset has no \.user"):
        load(tmp_path / "bare", aux_fields=["user_id", "gender"])
