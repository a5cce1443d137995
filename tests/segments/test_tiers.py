"""Value n-tiles and named tiers against plain pandas, with ties and exact share boundaries."""

from __future__ import annotations

import itertools
import random

import ibis
import pandas as pd
import pyarrow as pa
import pytest

from segmint.engine import Engine, spark_sql
from segmint.exceptions import ConfigError
from segmint.segments._families_config import ValueTier, ValueTierSettings
from segmint.segments._tiers import value_tiers


def _write(engine: Engine, values: dict[str, float | None], column: str = "monetary") -> None:
    engine.write(
        "base",
        pa.table(
            {
                "customer_id": pa.array(list(values), pa.string()),
                column: pa.array(list(values.values()), pa.float64()),
            }
        ),
    )


def _fetch(expr: ibis.Table) -> pd.DataFrame:
    df = expr.to_pandas().sort_values("customer_id").reset_index(drop=True)
    df["value_decile"] = df["value_decile"].astype("int64")
    return df


def pandas_tiers(values: dict[str, float | None], s: ValueTierSettings) -> pd.DataFrame:
    """The documented recipe in pandas: rank up for n-tiles, cumulate down for tiers."""
    df = pd.DataFrame({"customer_id": list(values), "value": list(values.values())})
    df = df[df["value"].notna()]
    if s.positive_only:
        df = df[df["value"] > 0]
    n = len(df)
    up = df.sort_values(["value", "customer_id"]).reset_index(drop=True)
    up["value_decile"] = [i * s.n // n + 1 for i in range(n)]
    down = up.iloc[::-1].reset_index(drop=True)
    weight = down["value"].clip(lower=0)
    total = weight.sum()
    before = weight.cumsum() - weight
    tiers = []
    for b in before:
        share = b / total if total > 0 else float("nan")
        name = next((t.name for t in s.tiers[:-1] if share < (t.share or 0)), s.tiers[-1].name)
        tiers.append(name)
    down["value_tier"] = tiers
    return (
        down[["customer_id", "value_decile", "value_tier"]]
        .sort_values("customer_id")
        .reset_index(drop=True)
    )


def test_shares_exactly_at_the_cut_offs(engine: Engine) -> None:
    values = {
        "a": 50.0,  # share before 0.00 -> gold
        "b": 30.0,  # 0.50 -> gold
        "c": 10.0,  # 0.80: not below 0.8 -> silver
        "e": 5.0,  # tie with d; e comes first top-down (customer_id descending): 0.90 -> silver
        "d": 5.0,  # 0.95: not below 0.95 -> bronze
        "zero": 0.0,  # not tiered (positive_only)
        "none": None,  # not tiered
        "refund": -3.0,  # not tiered
    }
    _write(engine, values)
    got = _fetch(value_tiers(engine.table("base")))
    assert dict(zip(got["customer_id"], got["value_tier"], strict=True)) == {
        "a": "gold",
        "b": "gold",
        "c": "silver",
        "e": "silver",
        "d": "bronze",
    }
    # deciles over 5 customers, ascending by (value, customer_id): d, e, c, b, a
    assert dict(zip(got["customer_id"], got["value_decile"], strict=True)) == {
        "d": 1,
        "e": 3,
        "c": 5,
        "b": 7,
        "a": 9,
    }
    pd.testing.assert_frame_equal(got, pandas_tiers(values, ValueTierSettings()))


def test_ten_customers_fill_the_ten_deciles_and_ties_go_by_customer_id(engine: Engine) -> None:
    values = {f"k{i}": 100.0 for i in range(10)}
    _write(engine, values)
    got = _fetch(value_tiers(engine.table("base")))
    assert list(got["value_decile"]) == list(range(1, 11))
    # equal values, top-down k9, k8, ...: k2 starts at 70% (gold), k1 at 80% and k0 at 90%
    assert list(got["value_tier"]) == ["silver", "silver"] + ["gold"] * 8


def _random_values(n: int, seed: int) -> dict[str, float | None]:
    rng = random.Random(seed)
    choices: list[float | None] = [None, -20.0, 0.0, 10.0, 10.0, 25.0, 40.0, 125.0, 900.0]
    return {f"c{rng.randrange(10**5):05d}-{i}": rng.choice(choices) for i in range(n)}


@pytest.mark.parametrize(
    "settings",
    [
        ValueTierSettings(),
        ValueTierSettings(n=4, positive_only=False),
        ValueTierSettings(
            n=7,
            tiers=[
                ValueTier(name="platinum", share=0.25),
                ValueTier(name="gold", share=0.5),
                ValueTier(name="silver", share=0.75),
                ValueTier(name="bronze"),
            ],
        ),
        ValueTierSettings(tiers=[ValueTier(name="everyone")]),
    ],
)
def test_random_values_with_ties_match_pandas(engine: Engine, settings: ValueTierSettings) -> None:
    values = _random_values(347, seed=settings.n)
    _write(engine, values)
    got = _fetch(value_tiers(engine.table("base"), settings))
    pd.testing.assert_frame_equal(got, pandas_tiers(values, settings))
    # tiers never cross n-tiles: a better tier has n-tiles at least as high
    deciles = got.groupby("value_tier")["value_decile"]
    names = [t.name for t in settings.tiers if t.name in set(got["value_tier"])]
    for better, worse in itertools.pairwise(names):
        assert deciles.min()[better] >= deciles.max()[worse]


def test_another_column_such_as_clv(engine: Engine) -> None:
    values = {"a": 3.0, "b": 1.0, "c": 2.0}
    _write(engine, values, column="clv")
    got = _fetch(value_tiers(engine.table("base"), ValueTierSettings(column="clv", n=3)))
    assert list(got["value_decile"]) == [3, 1, 2]
    with pytest.raises(ConfigError, match=r"'monetary'.*the table has: customer_id, clv"):
        value_tiers(engine.table("base"))
    with pytest.raises(ConfigError, match=r"'clvv' \(did you mean 'clv'\?\)"):
        value_tiers(engine.table("base"), ValueTierSettings(column="clvv"))


def test_tier_settings_are_checked() -> None:
    with pytest.raises(ValueError, match=r"last tier \(a\) takes the rest"):
        ValueTierSettings(tiers=[ValueTier(name="a", share=0.5)])
    with pytest.raises(ValueError, match="needs a share"):
        ValueTierSettings(tiers=[ValueTier(name="a"), ValueTier(name="b")])
    with pytest.raises(ValueError, match="shares must increase"):
        ValueTierSettings(
            tiers=[
                ValueTier(name="a", share=0.8),
                ValueTier(name="b", share=0.5),
                ValueTier(name="c"),
            ]
        )
    with pytest.raises(ValueError, match="unique"):
        ValueTierSettings(tiers=[ValueTier(name="a", share=0.5), ValueTier(name="a")])
    with pytest.raises(ValueError, match="less than 1"):
        ValueTier(name="a", share=1.0)


def test_value_tiers_compile_for_spark() -> None:
    base = ibis.table({"customer_id": "string", "monetary": "float64"}, name="base")
    sql = spark_sql(value_tiers(base))
    assert "ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING" in sql
    assert "`customer_id` DESC" in sql
    assert "NTILE" not in sql.upper()
