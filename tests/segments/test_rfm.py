"""RFM scores, the R/F cell map and movement, against plain pandas over the same data."""

from __future__ import annotations

import random
import re
from pathlib import Path

import ibis
import pandas as pd
import pyarrow as pa
import pytest

from segmint.engine import Engine, spark_sql
from segmint.exceptions import ConfigError
from segmint.segments._families_config import STANDARD_RFM_CELLS, RfmCell, RfmSettings
from segmint.segments._rfm import (
    NO_CELL,
    rfm,
    rfm_cell,
    rfm_movement,
    rfm_transition_matrix,
    rfm_transitions,
)

# The regex map of the RFM literature, as DESIGN.md names it: the independent reference.
REGEX_MAP = {
    r"[1-2][1-2]": "hibernating",
    r"[1-2][3-4]": "at_risk",
    r"[1-2]5": "cant_lose_them",
    r"3[1-2]": "about_to_sleep",
    r"33": "need_attention",
    r"[3-4][4-5]": "loyal_customers",
    r"41": "promising",
    r"51": "new_customers",
    r"[4-5][2-3]": "potential_loyalists",
    r"5[4-5]": "champions",
}


def regex_cell(r: int, f: int) -> str:
    hits = [name for pattern, name in REGEX_MAP.items() if re.fullmatch(pattern, f"{r}{f}")]
    assert len(hits) == 1, (r, f, hits)
    return hits[0]


_COLUMNS = ("customer_id", "recency_days", "frequency", "monetary")


def _base(rows: list[tuple[str, float | None, int | None, float | None]]) -> pa.Table:
    ids, rec, freq, mon = zip(*rows, strict=True)
    return pa.table(
        {
            "customer_id": pa.array(ids, pa.string()),
            "recency_days": pa.array(rec, pa.float64()),
            "frequency": pa.array(freq, pa.int64()),
            "monetary": pa.array(mon, pa.float64()),
        }
    )


def _random_rows(n: int, seed: int) -> list[tuple[str, float | None, int | None, float | None]]:
    rng = random.Random(seed)
    rows: list[tuple[str, float | None, int | None, float | None]] = []
    for i in range(n):
        cid = f"c{rng.randrange(10**6):06d}-{i}"
        kind = rng.random()
        if kind < 0.1:  # a prospect: never bought
            rows.append((cid, None, rng.choice([0, None]), rng.choice([None, 0.0])))
        else:  # small value sets, so ties are everywhere
            monetary = None if kind < 0.12 else float(rng.choice([0, 99, 150, 150, 300, 1200]))
            rows.append((cid, float(rng.randrange(0, 60, 7)), rng.randint(1, 6), monetary))
    return rows


def pandas_rfm(df: pd.DataFrame, bins: int = 5) -> pd.DataFrame:
    """The documented recipe, spelled out in pandas."""
    buyers = df[df["recency_days"].notna() & (df["frequency"].fillna(0) > 0)].copy()
    buyers["monetary"] = buyers["monetary"].fillna(0.0)
    n = len(buyers)

    def score(column: str, ascending: bool) -> pd.Series:
        ordered = buyers.sort_values([column, "customer_id"], ascending=[ascending, True])
        rank = pd.Series(range(1, n + 1), index=ordered.index)
        return ((rank - 1) * bins // n + 1).reindex(buyers.index)

    out = pd.DataFrame(
        {
            "customer_id": buyers["customer_id"],
            "r": score("recency_days", ascending=False),
            "f": score("frequency", ascending=True),
            "m": score("monetary", ascending=True),
        }
    )
    out["rfm_score"] = out["r"].astype(str) + out["f"].astype(str) + out["m"].astype(str)
    out["rfm_cell"] = [regex_cell(r, f) for r, f in zip(out["r"], out["f"], strict=True)]
    return out.sort_values("customer_id").reset_index(drop=True)


def _fetch(expr: ibis.Table) -> pd.DataFrame:
    df = expr.to_pandas().sort_values("customer_id").reset_index(drop=True)
    for col in ("r", "f", "m"):
        if col in df:
            df[col] = df[col].astype("int64")
    return df


# -- the cell map ----------------------------------------------------------------------------


def test_standard_map_covers_the_grid_exactly_once_and_matches_the_regex_map() -> None:
    cells = RfmSettings().cells
    for r in range(1, 6):
        for f in range(1, 6):
            hits = [c.name for c in cells if c.covers(r, f)]
            assert hits == [regex_cell(r, f)], (r, f)
    assert {c.name for c in cells} == set(REGEX_MAP.values())
    assert len(cells) == 10


def test_engine_cell_expression_matches_the_regex_map_on_every_grid_point() -> None:
    grid = ibis.memtable(
        {"r": [r for r in range(1, 6) for _ in range(5)], "f": list(range(1, 6)) * 5}
    )
    got = grid.select("r", "f", cell=rfm_cell(grid.r, grid.f, RfmSettings())).to_pandas()
    assert len(got) == 25
    for r, f, cell in got.itertuples(index=False):
        assert cell == regex_cell(int(r), int(f))


def test_cell_map_with_a_hole_or_an_overlap_is_refused() -> None:
    hole = [c for c in RfmSettings().cells if c.name != "need_attention"]
    with pytest.raises(ValueError, match=r"\(R=3, F=3\) is covered by no cell"):
        RfmSettings(cells=hole)
    overlap = [*RfmSettings().cells, RfmCell(name="lost", r="1", f="1")]
    with pytest.raises(ValueError, match=r"\(R=1, F=1\) is covered by hibernating, lost"):
        RfmSettings(cells=overlap)
    with pytest.raises(ValueError, match="not a score or a score range"):
        RfmCell(name="x", r="[1-2]", f="1")
    with pytest.raises(ValueError, match="runs backwards"):
        RfmCell(name="x", r="2-1", f="1")


def test_other_bins_need_their_own_map() -> None:
    with pytest.raises(ValueError, match="standard named cells are defined for bins: 5"):
        RfmSettings(bins=3)
    with pytest.raises(ValueError, match="exceeds bins: 3"):
        RfmSettings(bins=3, cells=RfmSettings().cells)
    three = RfmSettings(
        bins=3,
        cells=[
            RfmCell(name="best", r="3", f="2-3"),
            RfmCell(name="fresh", r="2-3", f="1"),
            RfmCell(name="steady", r="2", f="2-3"),
            RfmCell(name="gone", r="1", f="1-3"),
        ],
    )
    frame = pd.DataFrame(_random_rows(60, seed=3), columns=list(_COLUMNS))
    got = _fetch(rfm(ibis.memtable(frame), three))
    expected = pandas_rfm(frame, bins=3)
    scores = ["customer_id", "r", "f", "m", "rfm_score"]
    pd.testing.assert_frame_equal(got[scores], expected[scores], check_dtype=False)
    assert set(got["r"]) == {1, 2, 3}
    by_hand = {(3, 2): "best", (3, 3): "best", (3, 1): "fresh", (2, 1): "fresh"}
    by_hand |= {(2, 2): "steady", (2, 3): "steady", (1, 1): "gone", (1, 2): "gone", (1, 3): "gone"}
    assert list(got["rfm_cell"]) == [
        by_hand[(r, f)] for r, f in zip(got["r"], got["f"], strict=True)
    ]


# -- scores ----------------------------------------------------------------------------------


def test_five_customers_get_one_score_each_and_recent_is_best(engine: Engine) -> None:
    engine.write(
        "base",
        _base(
            [
                ("a", 1.0, 9, 500.0),
                ("b", 10.0, 7, 400.0),
                ("c", 20.0, 5, 300.0),
                ("d", 30.0, 3, 200.0),
                ("e", 40.0, 1, 100.0),
                ("p", None, 0, None),  # a prospect: no RFM row
            ]
        ),
    )
    got = _fetch(rfm(engine.table("base")))
    assert list(got["customer_id"]) == ["a", "b", "c", "d", "e"]
    assert list(got["rfm_score"]) == ["555", "444", "333", "222", "111"]
    assert list(got["rfm_cell"]) == [
        "champions",
        "loyal_customers",
        "need_attention",
        "hibernating",
        "hibernating",
    ]


def test_ties_are_broken_by_customer_id_exactly_as_documented(engine: Engine) -> None:
    # Ten customers with one value: rank by customer_id, two per quintile.
    ids = [f"k{i}" for i in range(10)]
    engine.write("base", _base([(cid, 5.0, 2, 100.0) for cid in reversed(ids)]))
    got = _fetch(rfm(engine.table("base")))
    assert list(got["customer_id"]) == ids
    expected = [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert list(got["r"]) == expected
    assert list(got["f"]) == expected
    assert list(got["m"]) == expected


def test_random_data_with_ties_and_prospects_matches_pandas(engine: Engine) -> None:
    rows = _random_rows(503, seed=11)  # 503: n not a multiple of 5
    engine.write("base", _base(rows))
    got = _fetch(rfm(engine.table("base")))
    expected = pandas_rfm(pd.DataFrame(rows, columns=list(_COLUMNS)))
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    buyers = sum(1 for r in rows if r[1] is not None and (r[2] or 0) > 0)
    assert len(got) == buyers
    # n-tiles differ in size by at most one
    sizes = got["f"].value_counts()
    assert sizes.max() - sizes.min() <= 1


def test_row_order_of_the_input_does_not_change_the_result(engine: Engine) -> None:
    rows = _random_rows(200, seed=5)
    engine.write("one", _base(rows))
    engine.write("two", _base(list(reversed(rows))))
    a = _fetch(rfm(engine.table("one")))
    b = _fetch(rfm(engine.table("two")))
    pd.testing.assert_frame_equal(a, b)


def test_missing_column_is_named_with_a_suggestion() -> None:
    base = ibis.memtable({"customer_id": ["a"], "recency": [1], "frequency": [1], "monetary": [1]})
    with pytest.raises(ConfigError, match=r"'recency_days' \(did you mean 'recency'\?\)"):
        rfm(base)


# -- movement --------------------------------------------------------------------------------


def _cells(pairs: dict[str, str]) -> pa.Table:
    return pa.table({"customer_id": list(pairs), "rfm_cell": list(pairs.values())})


PREVIOUS = {
    "a": "champions",
    "b": "champions",
    "c": "at_risk",
    "d": "new_customers",
    "e": "hibernating",
    "gone": "hibernating",
}
CURRENT = {
    "a": "champions",
    "b": "loyal_customers",
    "c": "hibernating",
    "d": "potential_loyalists",
    "e": "hibernating",
    "fresh": "new_customers",
    "fresh2": "new_customers",
}


def test_movement_between_two_snapshots_is_exact(engine: Engine) -> None:
    engine.write("prev", _cells(PREVIOUS))
    engine.write("cur", _cells(CURRENT))
    got = rfm_movement(engine.table("prev"), engine.table("cur")).to_pandas()
    got = got.sort_values("customer_id").reset_index(drop=True)

    expected = (
        pd.DataFrame({"customer_id": list(PREVIOUS), "from_cell": list(PREVIOUS.values())})
        .merge(
            pd.DataFrame({"customer_id": list(CURRENT), "to_cell": list(CURRENT.values())}),
            on="customer_id",
            how="outer",
        )
        .sort_values("customer_id")
        .reset_index(drop=True)
    )
    assert got.fillna("-").equals(expected.fillna("-"))

    counts = rfm_transitions(rfm_movement(engine.table("prev"), engine.table("cur")))
    pairs = {
        (f if isinstance(f, str) else None, t if isinstance(t, str) else None): n
        for f, t, n in counts.to_pandas().itertuples(index=False)
    }
    assert pairs == {
        ("champions", "champions"): 1,
        ("champions", "loyal_customers"): 1,
        ("at_risk", "hibernating"): 1,
        ("new_customers", "potential_loyalists"): 1,
        ("hibernating", "hibernating"): 1,
        ("hibernating", None): 1,
        (None, "new_customers"): 2,
    }


def test_transition_matrix_matches_pandas_crosstab(engine: Engine) -> None:
    engine.write("prev", _cells(PREVIOUS))
    engine.write("cur", _cells(CURRENT))
    matrix = rfm_transition_matrix(rfm_movement(engine.table("prev"), engine.table("cur")))
    order = [c.name for c in RfmSettings().cells] + [NO_CELL]
    assert list(matrix.index) == order
    assert list(matrix.columns) == order
    frame = pd.DataFrame(
        {
            "from_cell": [PREVIOUS.get(c, NO_CELL) for c in sorted(set(PREVIOUS) | set(CURRENT))],
            "to_cell": [CURRENT.get(c, NO_CELL) for c in sorted(set(PREVIOUS) | set(CURRENT))],
        }
    )
    crosstab = pd.crosstab(frame["from_cell"], frame["to_cell"]).reindex(
        index=order, columns=order, fill_value=0
    )
    assert (matrix.to_numpy() == crosstab.to_numpy()).all()
    assert int(matrix.to_numpy().sum()) == len(set(PREVIOUS) | set(CURRENT))


def test_movement_of_rfm_runs_on_two_dates(engine: Engine) -> None:
    before = [("a", 3.0, 5, 900.0), ("b", 40.0, 1, 50.0), ("c", None, 0, None)]
    after = [("a", 200.0, 5, 900.0), ("b", 2.0, 2, 80.0), ("c", 1.0, 1, 10.0)]
    engine.write("t1", _base(before))
    engine.write("t2", _base(after))
    move = rfm_movement(rfm(engine.table("t1")), rfm(engine.table("t2"))).to_pandas()
    e1 = pandas_rfm(pd.DataFrame(before, columns=list(_COLUMNS))).set_index("customer_id")
    e2 = pandas_rfm(pd.DataFrame(after, columns=list(_COLUMNS))).set_index("customer_id")
    got = {row.customer_id: (row.from_cell, row.to_cell) for row in move.itertuples()}
    assert got == {
        cid: (
            e1["rfm_cell"].get(cid) if cid in e1.index else None,
            e2["rfm_cell"].get(cid),
        )
        for cid in ("a", "b", "c")
    }
    assert got["c"][0] is None


def test_empty_movement_gives_an_all_zero_matrix() -> None:
    empty = ibis.memtable(
        pd.DataFrame(
            {"customer_id": pd.Series([], dtype=str), "rfm_cell": pd.Series([], dtype=str)}
        )
    )
    matrix = rfm_transition_matrix(rfm_movement(empty, empty))
    assert matrix.shape == (10, 10)
    assert int(matrix.to_numpy().sum()) == 0


# -- portability -----------------------------------------------------------------------------


def test_every_rfm_expression_compiles_for_spark() -> None:
    base = ibis.table(
        {
            "customer_id": "string",
            "recency_days": "int64",
            "frequency": "int64",
            "monetary": "float64",
        },
        name="base",
    )
    scores = rfm(base)
    sql = spark_sql(scores)
    assert "ROW_NUMBER() OVER (ORDER BY `t1`.`recency_days` DESC, `t1`.`customer_id` ASC" in sql
    assert "NTILE" not in sql.upper()
    move = rfm_movement(scores, scores)
    assert "FULL OUTER JOIN" in spark_sql(move)
    assert "GROUP BY" in spark_sql(rfm_transitions(move))


def test_the_documented_map_is_the_map_in_the_code() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "families.md").read_text("utf-8")
    rows = re.findall(r"^\| `(\w+)` \| [^|]+ \| ([\d-]+) \| ([\d-]+) \| `([^`]+)` \|$", doc, re.M)
    assert [(name, r, f) for name, r, f, _ in rows] == list(STANDARD_RFM_CELLS)
    for name, _, _, pattern in rows:
        assert REGEX_MAP[pattern] == name
