"""Loaders: every format on tiny hand-made fixtures, malformed files, filters, real ML-100K."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.data import load_dataset
from core.data.filters import apply_k_core
from core.data.paths import real_dataset_path, shared_data_dir
from core.errors import DatasetError

FIXTURES = Path(__file__).parent / "fixtures"


def _pairs(ds) -> set[tuple[str, str]]:
    return {(ds.user_ids[u], ds.item_ids[i]) for u, i in zip(ds.users, ds.items)}


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# -- formats ----------------------------------------------------------------------------
def test_ml100k_folder_with_metadata():
    ds = load_dataset(str(FIXTURES / "ml100k_small"))
    assert (ds.name, ds.n_users, ds.n_items, ds.n_interactions) == ("ml100k_small", 3, 4, 8)
    assert ("2", "40") in _pairs(ds)
    row = ds.item_index(["10"])[0]
    assert ds.item_meta.loc[row, "title"] == "Harbor Lights"
    assert ds.item_meta.loc[row, "year"] == 1995
    assert ds.item_meta.loc[row, "genres"] == ["Animation", "Children's", "Comedy"]
    cafe = ds.item_index(["20"])[0]
    assert ds.item_meta.loc[cafe, "title"] == "Café Noir"  # latin-1 decoded
    untitled = ds.item_index(["30"])[0]
    assert ds.item_meta.loc[untitled, "year"] == 1994  # from the release date
    unknown = ds.item_index(["40"])[0]
    assert ds.item_meta.loc[unknown, "genres"] == []
    assert pd.isna(ds.item_meta.loc[unknown, "year"])
    user = ds.user_index(["2"])[0]
    assert ds.user_meta.loc[user, ["age", "gender", "occupation"]].tolist() == [53, "F", "other"]
    assert ds.ratings[ds.users == user].tolist() == [4.0, 1.0]
    assert ds.timestamps.min() == 881250949


def test_ml100k_from_its_u_data_file():
    ds = load_dataset(str(FIXTURES / "ml100k_small" / "u.data"))
    assert ds.n_interactions == 8 and ds.item_meta is not None


def test_ml1m_folder_maps_occupations_and_keeps_age_codes():
    ds = load_dataset(str(FIXTURES / "ml1m_small"))
    assert (ds.n_users, ds.n_items, ds.n_interactions) == (3, 3, 6)
    garden = ds.item_index(["100"])[0]
    assert ds.item_meta.loc[garden, "title"] == "Garden of Clocks, The"
    assert ds.item_meta.loc[garden, "genres"] == ["Animation", "Children's", "Comedy"]
    signal = ds.item_index(["200"])[0]
    assert ds.item_meta.loc[signal, "title"] == "Night Signal: Part Two"
    assert ds.item_meta.loc[signal, "year"] == 1999
    assert ds.item_meta.loc[ds.item_index(["300"])[0], "title"] == "Flûte"
    first = ds.user_index(["1"])[0]
    assert ds.user_meta.loc[first].tolist() == [1, "F", "K-12 student"]
    assert ds.user_meta.loc[ds.user_index(["2"])[0], "occupation"] == "self-employed"


def test_recbole_atomic_files():
    for path in (FIXTURES / "recbole_small", FIXTURES / "recbole_small" / "recbole_small.inter"):
        ds = load_dataset(str(path))
        assert (ds.n_users, ds.n_items, ds.n_interactions) == (2, 3, 4)
    assert ds.ratings[ds.users == ds.user_index(["u1"])[0]].tolist() == [4.0, 2.5]
    assert ds.timestamps.tolist() == [100, 101, 102, 103]
    i1 = ds.item_index(["i1"])[0]
    assert ds.item_meta.loc[i1].tolist() == ["The Paper Moon", 1973, ["Comedy", "Drama"]]
    i3 = ds.item_index(["i3"])[0]
    assert ds.item_meta.loc[i3, "genres"] == [] and pd.isna(ds.item_meta.loc[i3, "year"])
    assert ds.user_meta.loc[ds.user_index(["u2"])[0]].tolist() == [53, "F", "other"]


def test_csv_with_column_mapping_and_date_timestamps():
    mapping = {"user": "member", "item": "product", "rating": "stars", "timestamp": "when"}
    ds = load_dataset(str(FIXTURES / "shop_mapped.csv"), columns=mapping)
    assert ds.name == "shop_mapped"
    assert _pairs(ds) == {("alice", "p1"), ("alice", "p2"), ("bob", "p1"), ("bob", "p3")}
    assert ds.timestamps[0] == int(pd.Timestamp("2021-03-01 10:00:00", tz="UTC").timestamp())
    assert sorted(ds.ratings.tolist()) == [1.0, 3.0, 4.0, 5.0]


def test_csv_auto_headers_and_sniffed_separators():
    ds = load_dataset(str(FIXTURES / "ratings_auto.csv"))
    assert (ds.n_users, ds.n_items, ds.n_interactions) == (3, 3, 5)
    assert sorted(ds.ratings.tolist()) == [1.5, 2.0, 3.0, 4.5, 5.0]
    tsv = load_dataset(str(FIXTURES / "implicit_auto.tsv"))
    assert tsv.n_interactions == 3 and set(tsv.ratings) == {1.0}


def test_headerless_csv_is_positional(tmp_path):
    ds = load_dataset(str(_write(tmp_path, "plain.csv", "1,10,4\n2,10,3\n2,11,5\n")))
    assert ds.n_interactions == 3 and sorted(ds.ratings.tolist()) == [3.0, 4.0, 5.0]


def test_lastfm_weights_become_ratings():
    ds = load_dataset(str(FIXTURES / "lastfm_small"))
    assert ds.n_interactions == 4
    assert ds.ratings[ds.item_index(["52"])[0] == ds.items].tolist() == [11690.0]
    assert ds.item_title(ds.item_index(["53"])[0]) == "Les Étoiles"


def test_demo_by_name():
    assert load_dataset("demo").name == "demo"


# -- malformed input --------------------------------------------------------------------
def _error(path, **kwargs) -> DatasetError:
    with pytest.raises(DatasetError) as info:
        load_dataset(str(path), **kwargs)
    return info.value


def test_non_numeric_rating_names_file_and_line(tmp_path):
    folder = tmp_path / "ml"
    folder.mkdir()
    _write(folder, "u.data", "1\t10\t5\t100\n\n1\t20\tfive\t101\n2\t10\t3\t102\n")
    err = _error(folder)
    assert err.line == 3 and err.path.endswith("u.data")
    assert "'five'" in err.problem and "rating" in err.problem
    assert "u.data, line 3" in str(err)


def test_non_numeric_rating_in_csv_counts_the_header(tmp_path):
    path = _write(tmp_path, "r.csv", "user,item,rating\n1,2,3\n1,3,x\n")
    err = _error(path)
    assert (err.line, err.path) == (3, str(path)) and "'x'" in err.problem


def test_missing_column_is_named(tmp_path):
    path = _write(tmp_path, "r.csv", "user,item,rating\n1,2,3\n")
    err = _error(path, columns={"user": "user", "item": "item", "timestamp": "when"})
    assert "'when'" in err.problem and err.line == 1
    err = _error(_write(tmp_path, "s.csv", "person,thing\na,b\n"))
    assert "no user column" in err.problem
    inter = _write(tmp_path, "x.inter", "user_id:token\trating:float\nu\t1\n")
    assert "item ID" in _error(inter).problem


def test_empty_file(tmp_path):
    err = _error(_write(tmp_path, "empty.csv", ""))
    assert "empty" in err.problem and err.path.endswith("empty.csv")
    assert "empty" in _error(_write(tmp_path, "header.csv", "user,item\n")).problem


def test_unknown_format_says_what_was_looked_for(tmp_path):
    (tmp_path / "notes.md").write_text("hello")
    (tmp_path / "a.csv").write_text("user,item\n1,2\n")
    (tmp_path / "b.csv").write_text("user,item\n1,2\n")
    err = _error(tmp_path)
    assert "unknown dataset format" in err.problem
    assert "u.data" in err.problem and "ratings.dat" in err.problem and ".inter" in err.problem


def test_missing_path_and_bad_fmt(tmp_path):
    assert "no such file" in _error(tmp_path / "nope").problem
    assert "unknown format" in _error(tmp_path, fmt="parquet").problem
    assert "not found" in _error(tmp_path, fmt="ml-1m").problem  # ratings.dat missing


def test_duplicated_header_column(tmp_path):
    err = _error(_write(tmp_path, "d.csv", "\nuser,item,rating,rating\n1,2,3,4\n"))
    assert "duplicated header column 'rating'" in err.problem and err.line == 2


def test_wrong_field_count(tmp_path):
    folder = tmp_path / "ml"
    folder.mkdir()
    _write(folder, "u.data", "1\t10\t5\t100\n1\t20\t4\n2\t10\t3\t102\n")
    err = _error(folder)
    assert err.line == 2 and "expected 4 fields, found 3" in err.problem
    _write(folder, "u.data", "1\t10\t5\t100\n2\t10\t3\t102\t7\n")
    assert _error(folder).line == 2
    path = _write(tmp_path, "r.csv", "user,item,rating\n1,2,3\n1,3,4,5\n")
    assert _error(path).line == 3


def test_ml1m_bad_line_is_located(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    _write(folder, "ratings.dat", "1::2::3::4\n1::3::4::5\n1::4:4::6\n")
    err = _error(folder)
    assert err.line == 3 and "ratings.dat" in err.path


# -- filters ----------------------------------------------------------------------------
def test_implicit_threshold_keeps_high_ratings():
    ds = load_dataset(str(FIXTURES / "ml100k_small"), implicit_threshold=4)
    assert ds.n_interactions == 4 and ds.ratings.min() >= 4
    with pytest.raises(DatasetError, match="no interaction"):
        load_dataset(str(FIXTURES / "ml100k_small"), implicit_threshold=6)


def test_k_core_is_iterative():
    # 3-core: x (2 rows) and z (1) go; that leaves item d with only y, so d goes;
    # then y has 2 rows left and goes too. Only the a/b/c × 1/2/3 block survives.
    rows = [(u, i) for u in "abc" for i in "123"]
    rows += [("x", "1"), ("x", "d"), ("y", "d"), ("y", "1"), ("y", "2"), ("z", "d")]
    kept = apply_k_core(pd.DataFrame(rows, columns=["user", "item"]), 3)
    assert sorted(zip(kept["user"], kept["item"])) == sorted(rows[:9])
    assert apply_k_core(pd.DataFrame(rows, columns=["user", "item"]), 0).shape[0] == len(rows)


def test_k_core_through_load_dataset():
    ds = load_dataset("demo", k_core=30)
    assert ds.user_counts().min() >= 30 and ds.item_counts().min() >= 30
    with pytest.raises(DatasetError, match="removed every interaction"):
        load_dataset(str(FIXTURES / "ml100k_small"), k_core=5)


# -- real data --------------------------------------------------------------------------
def test_shared_data_dir_follows_env(monkeypatch, tmp_path):
    monkeypatch.setenv("CRAGRU_DATA_DIR", str(tmp_path))
    assert shared_data_dir() == tmp_path
    with pytest.raises(DatasetError, match="set CRAGRU_DATA_DIR"):
        real_dataset_path("ml-100k")


@pytest.mark.realdata
def test_real_ml100k():
    try:
        path = real_dataset_path("ml-100k")
    except DatasetError as exc:
        pytest.skip(f"real MovieLens-100K not available: {exc}")
    ds = load_dataset(str(path))
    assert (ds.n_users, ds.n_items, ds.n_interactions) == (943, 1682, 100000)
    assert set(np.unique(ds.ratings)) == {1.0, 2.0, 3.0, 4.0, 5.0}
    assert ds.item_meta["title"].notna().all() and len(ds.all_genres()) == 18
    assert ds.user_meta[["age", "gender", "occupation"]].notna().all().all()


def test_csv_profile_columns_become_user_attributes(tmp_path):
    """Extra columns with one value per user are the user's profile (breakdown by attribute);
    a column that varies within a user describes the interaction and is left out."""
    from core.breakdown.attributes import available

    path = tmp_path / "interactions.csv"
    path.write_text(
        "user,item,rating,gender,country,note\n"
        "u1,i1,5,F,PT,good\nu1,i2,3,F,PT,bad\nu2,i1,4,M,用户国,ok\nu2,i3,2,M,用户国,ok\nu3,i2,1,,,meh\n"
    )
    ds = load_dataset(str(path))
    assert list(ds.user_meta.columns) == ["gender", "country"]
    assert ds.user_meta["gender"].tolist()[:2] == ["F", "M"] and pd.isna(ds.user_meta["gender"].iloc[2])
    assert ds.user_meta["country"].tolist()[:2] == ["PT", "用户国"]
    assert available(ds) == ["activity", "gender", "country"]
    plain = tmp_path / "plain.csv"
    plain.write_text("user,item,rating\nu1,i1,5\nu2,i2,3\n")
    assert load_dataset(str(plain)).user_meta is None
