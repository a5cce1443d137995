"""Lookalikes: the ranking finds held-out seed members, in the base and in a market table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from segmint.demo import generate
from segmint.discovery import lookalikes
from segmint.discovery._lookalike import cut_bands
from segmint.exceptions import ConfigError


@pytest.fixture(scope="module")
def base() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Customers of a 4,000-customer demo with behaviour computed by pandas, the truth and
    the market table."""
    data = generate(4000, seed=2)
    c = data.tables["customers"].to_pandas()[["customer_id", "region", "birth_date", "gender"]]
    c["age"] = 2026 - pd.to_datetime(c["birth_date"]).dt.year
    tx = data.tables["transactions"].to_pandas()
    per = tx.groupby("customer_id").agg(
        frequency=("order_id", "nunique"), monetary=("amount", "sum"),
        webshop=("channel", lambda s: (s == "webshop").mean()),
    )  # fmt: skip
    c = c.drop(columns="birth_date").merge(per, on="customer_id", how="left")
    truth = data.customer_truth.to_pandas().set_index("customer_id")
    return c, truth, data.tables["market_households"].to_pandas()


def test_lookalikes_find_held_out_members_of_a_planted_group(base: tuple) -> None:
    customers, truth, _ = base
    seed = truth.index[truth["group"] == "loyal high-value"]
    found = lookalikes(customers, list(seed), seed=0)
    check = found.check
    # every seed member was scored by a model that did not see it: the AUC is a holdout one
    assert check["seed_members"] == len(seed)
    assert check["auc"] >= 0.8, check  # measured 0.87; random ranking: 0.5
    assert check["top_decile_lift"] >= 2.5, check
    ranking = found.ranking
    assert set(ranking["customer_id"]) == set(customers["customer_id"]) - set(seed)
    assert ranking["rank"].tolist() == list(range(1, len(ranking) + 1))
    assert ranking["score"].is_monotonic_decreasing
    # the prospects ranked first buy like the seed: their planted purchase rates are well
    # above the other prospects' (measured 1.37x the median)
    top = ranking.head(200)["customer_id"]
    rest = ranking["customer_id"].iloc[200:]
    assert truth.loc[top, "lambda_"].median() > 1.2 * truth.loc[rest, "lambda_"].median()


def test_twins_in_the_market_table(base: tuple) -> None:
    """Seed: customers aged 30-44 in Hovedstaden. On region and age band, the market cell
    Hovedstaden|30-44 is the closest twin; the AUC on held-out customers is near 1."""
    customers, _, market = base
    c = customers.dropna(subset=["region"])
    seed = c.loc[(c["region"] == "Hovedstaden") & c["age"].between(30, 44), "customer_id"]
    found = lookalikes(
        customers, list(seed), prospects=market, key=["region", "age_band"], count="households"
    )
    assert found.check["features"] == ["region", "age_band"]
    assert found.check["auc"] > 0.97
    top = found.ranking.iloc[0]
    assert (top["region"], top["age_band"]) == ("Hovedstaden", "30-44")
    assert len(found.ranking) == len(market)
    assert np.allclose(found.ranking["twins"], found.ranking["households"] * found.ranking["score"])


def test_auc_is_the_auc_of_the_scores() -> None:
    rng = np.random.default_rng(0)
    n = 600
    x = rng.normal(size=n)
    df = pd.DataFrame(
        {"customer_id": [f"c{i}" for i in range(n)], "x": x, "noise": rng.normal(size=n)}
    )
    seed = df.loc[x > 1.0, "customer_id"]
    found = lookalikes(df, list(seed))
    # a threshold on x is learnt almost perfectly, noise alone would give 0.5
    assert found.check["auc"] > 0.95
    only_noise = lookalikes(df, list(seed), features=["noise"])
    assert abs(only_noise.check["auc"] - 0.5) < 0.1
    ranked = found.ranking
    y = np.zeros(len(ranked))
    assert roc_auc_score(np.r_[y, 1], np.r_[ranked["score"], 1.0]) > 0.5  # scores are numbers


def test_bands_and_errors() -> None:
    ages = pd.Series([18, 29, 30, 44, 75, 90, 17, None])
    got = cut_bands(ages, ["18-29", "30-44", "45-59", "60-74", "75+"]).tolist()
    assert got == ["18-29", "18-29", "30-44", "30-44", "75+", "75+", pd.NA, pd.NA]
    df = pd.DataFrame({"customer_id": ["a", "b", "c"], "x": [1, 2, 3]})
    with pytest.raises(ConfigError, match="at least 6 seed members"):
        lookalikes(df, ["a"])
    with pytest.raises(ConfigError, match="missing: y"):
        lookalikes(df, ["a"], features=["y"])
