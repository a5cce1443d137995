"""Share of wallet on the demo's planted wallets, and against an independent pandas computation.

The demo (8,000 customers, seed 5) plants each customer's yearly category wallet as their
spend with the retailer plus their spend elsewhere (a lognormal around the mean of their
region and age band); the market table publishes the cells' means per category and 15 %
of customers state their wallet in the survey with a 15 % reporting error (see
``segmint.demo._wallet``).  The tables go straight into a store (ingest has its own tests).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from scipy.stats import spearmanr

from segmint import service
from segmint.demo import generate
from segmint.demo._wallet import SIGMA_STATED, SURVEY_COLUMN
from segmint.exceptions import ConfigError
from segmint.models._wallet import WalletResult, parse_range, wallet_scores
from segmint.project import Project
from segmint.traits import customer_base

AS_OF = datetime(2026, 10, 1)  # the day after the demo's window: the planted year ends here


@dataclass
class Demo:
    project: Project
    tables: dict[str, pd.DataFrame]
    truth: pd.DataFrame


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    data = generate(8_000, seed=5)
    # outside every cell: no birth date (every 40th), a region the market table lacks (41st)
    c = data.tables["customers"]
    i = np.arange(c.num_rows)
    birth = pa.array(np.where(i % 40 == 0, None, c["birth_date"].to_numpy(zero_copy_only=False)))
    region = pa.array(np.where(i % 41 == 0, "Atlantis", c["region"].to_numpy(zero_copy_only=False)))
    c = c.set_column(
        c.schema.get_field_index("birth_date"), "birth_date", birth.cast(c["birth_date"].type)
    )
    data.tables["customers"] = c.set_column(c.schema.get_field_index("region"), "region", region)
    project = service.init_project(tmp_path_factory.mktemp("wallet") / "demo")
    for name, table in data.tables.items():
        project.engine.write(name, table)
    names = ("customers", "transactions", "survey_responses", "market_wallet")
    frames = {n: data.tables[n].to_pandas() for n in names}
    try:
        yield Demo(project, frames, data.customer_truth.to_pandas().set_index("customer_id"))
    finally:
        project.close()


@pytest.fixture(scope="module")
def result(demo: Demo) -> WalletResult:
    eng = demo.project.engine
    return wallet_scores(eng, customer_base(eng, None, AS_OF), AS_OF, survey_column=SURVEY_COLUMN)


@pytest.fixture(scope="module")
def scores(result: WalletResult) -> pd.DataFrame:
    return result.scores.to_pandas().set_index("customer_id")


def _independent(demo: Demo) -> pd.DataFrame:
    """The module's method, written again in plain pandas from the raw tables."""
    c = demo.tables["customers"].set_index("customer_id")
    born = pd.to_datetime(c.birth_date)
    age = (
        AS_OF.year
        - born.dt.year
        - ((born.dt.month > 10) | ((born.dt.month == 10) & (born.dt.day > 1)))
    )
    edges = [(18, 30, "18-29"), (30, 45, "30-44"), (45, 60, "45-59"), (60, 75, "60-74")]
    band = pd.Series(pd.NA, index=c.index, dtype=object)
    for lo, hi, label in edges:
        band[(age >= lo) & (age < hi)] = label
    band[age >= 75] = "75+"
    m = demo.tables["market_wallet"].groupby(["region", "age_band"]).wallet.sum()
    market = pd.Series(
        [
            m.get((r, b)) if isinstance(b, str) else np.nan
            for r, b in zip(c.region, band, strict=True)
        ],
        index=c.index,
        dtype=float,
    )
    in_cell = market.notna()
    market = market.fillna(m.mean())
    t = demo.tables["transactions"]
    day = pd.to_datetime(t.order_date)
    recent = t[(day >= AS_OF - pd.Timedelta(days=365)) & (day < AS_OF)]
    spend = recent.groupby("customer_id").amount.sum().reindex(c.index, fill_value=0.0)
    s = demo.tables["survey_responses"].copy()
    s["response_date"] = pd.to_datetime(s.response_date)
    s = s[s.response_date < AS_OF].dropna(subset=[SURVEY_COLUMN])
    s = s.sort_values(["customer_id", "response_date", SURVEY_COLUMN]).groupby("customer_id").last()
    stated = s[SURVEY_COLUMN].astype(float).reindex(c.index)
    both = in_cell & stated.notna()
    k = stated[both].sum() / market[both].sum()
    wallet = stated.fillna(market * k)
    wallet = np.maximum(wallet, spend)
    return pd.DataFrame(
        {"wallet": wallet, "share_of_wallet": spend / wallet, "wallet_headroom": wallet - spend}
    )


def test_scores_equal_an_independent_pandas_computation(demo: Demo, scores: pd.DataFrame) -> None:
    expected = _independent(demo).sort_index()
    got = scores.sort_index()
    assert list(got.index) == list(expected.index)
    for col in ("wallet", "share_of_wallet", "wallet_headroom"):
        np.testing.assert_allclose(got[col], expected[col], rtol=1e-9, atol=1e-6, err_msg=col)
    assert got.share_of_wallet.between(0, 1).all()


def test_sources_say_where_each_wallet_came_from(demo: Demo, scores: pd.DataFrame) -> None:
    respondents = set(demo.tables["survey_responses"].customer_id)
    source = scores.wallet_source
    assert set(source[source == "survey"].index) == respondents
    c = demo.tables["customers"]
    outside = set(c.customer_id[c.birth_date.isna() | (c.region == "Atlantis")])
    assert len(outside - respondents) > 150  # about 250 of the 8,000: the case is exercised
    assert set(source[source == "market average"].index) == outside - respondents
    rest = set(scores.index) - respondents - outside
    assert set(source[source == "market (calibrated)"].index) == rest


def test_respondents_shares_match_the_planted_shares(demo: Demo, scores: pd.DataFrame) -> None:
    """A respondent's wallet is their answer: off by the planted 15 % reporting error and
    the rounding to 500, so the median relative error of the share is about
    0.6745 x 0.15 = 0.10."""
    resp = scores[scores.wallet_source == "survey"]
    truth = demo.truth.loc[resp.index]
    buyers = truth.spend_last_year > 0
    rel = (resp.share_of_wallet[buyers] / truth.share_of_wallet[buyers] - 1).abs()
    assert rel.median() < 0.6745 * SIGMA_STATED + 0.03, rel.median()
    # the spend is exact: the planted year and the window are the same days
    np.testing.assert_allclose(
        (resp.wallet - resp.wallet_headroom), truth.spend_last_year, rtol=1e-9, atol=1e-6
    )


def test_everybody_ranks_like_the_planted_share(demo: Demo, scores: pd.DataFrame) -> None:
    """Without an answer the wallet is the cell's (calibrated) mean, so single shares are
    rough, but the ranking and the cells' totals follow the planted truth."""
    truth = demo.truth.loc[scores.index]
    buyers = truth.spend_last_year > 0
    rho = spearmanr(scores.share_of_wallet[buyers], truth.share_of_wallet[buyers]).statistic
    assert rho > 0.9, rho  # 0.957 with seed 5
    total = scores.wallet.sum() / truth.wallet.sum()
    assert abs(total - 1) < 0.06, total  # 1.044: the survey's noise is not symmetric in level


def test_card_reports_the_calibration_and_the_market_check(result: WalletResult) -> None:
    card = result.card.to_dict()
    assert card["parameters"]["calibrated"] is True
    # customers carry their own spend in their wallet: more than the average household's
    assert 1.05 < card["parameters"]["calibration_factor"] < 1.6
    metrics = card["metrics"]
    assert metrics["customers"] == 8_000
    assert metrics["without_cell"] == 200 + 196 - 5  # every 40th, every 41st, both: every 1640th
    check = metrics["market_vs_stated"]
    assert 0 < check["respondents"] < metrics["respondents"]  # respondents inside a cell
    # the market's cell mean predicts a single household's wallet only roughly
    assert 0.2 < check["spearman"] < 0.6
    assert 0.3 < check["median_abs_relative_error"] < 0.5


def test_ranges_parse_like_a_statistics_table() -> None:
    assert parse_range("18-29") == (18.0, 30.0)
    assert parse_range("75+") == (75.0, float("inf"))
    assert parse_range(" 10 - 49 ") == (10.0, 50.0)
    assert parse_range("Hovedstaden") is None


def test_missing_market_table_or_column_says_what_to_load(demo: Demo, tmp_path: Path) -> None:
    eng = demo.project.engine
    base = customer_base(eng, None, AS_OF)
    with pytest.raises(ConfigError, match=r"no table 'market_spend'.*segmint load market_spend"):
        wallet_scores(eng, base, AS_OF, table="market_spend")
    with pytest.raises(ConfigError, match="no column 'income_band'"):
        wallet_scores(eng, base, AS_OF, keys={"income_band": "income"})
    with pytest.raises(ConfigError, match="no column 'q_wallet'"):
        wallet_scores(eng, base, AS_OF, survey_column="q_wallet")
