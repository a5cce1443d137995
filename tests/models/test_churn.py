"""Churn on the demo's planted truth: no leakage, AUC near the truth, planted drivers found.

The demo (10,000 customers, seed 3) is generated and written straight into a DuckDB store
(the ingest path has its own tests).  Features as of 2025-10-01 train the model, labels are
"no order in the next 90 days" among customers who ordered in the year before, and the
backtest is on 2026-04-01.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.special import betaln
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score

from segmint import service
from segmint.demo import generate
from segmint.demo._defection import Spells, cumulative_hazard
from segmint.models import (
    ChurnFit,
    TraitClassifier,
    churn_labels,
    evaluate,
    fit_churn,
    trait_frame,
)
from segmint.models._drivers import Driver, describe
from segmint.project import Project

T0, T1, HORIZON = datetime(2025, 10, 1), datetime(2026, 4, 1), 90
EPOCH = pd.Timestamp("2022-01-01")  # the demo's history start
TIME_COLUMNS = {
    "transactions": "order_date",
    "events": "event_time",
    "subscriptions": "start_date",
    "survey_responses": "response_date",
    "consents": "consent_time",
    "campaign_contacts": "contact_date",
}


@dataclass
class Demo:
    root: Path
    project: Project
    truth: dict[str, Any]
    customers: pd.DataFrame  # the planted per-customer truth


def _store(root: Path, customers: int, seed: int) -> Demo:
    data = generate(customers, seed=seed)
    project = service.init_project(root)
    for name, table in data.tables.items():
        project.engine.write(name, table)
    truth = data.customer_truth.to_pandas().set_index("customer_id")
    return Demo(root, project, data.truth, truth)


@pytest.fixture(scope="module", autouse=True)
def _one_thread() -> Iterator[None]:
    """One OpenMP thread: on a shared 2-core machine, spinning threads waste more than they win."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    d = _store(tmp_path_factory.mktemp("churn") / "demo", 10_000, 3)
    try:
        yield d
    finally:
        d.project.close()


@pytest.fixture(scope="module")
def fit(demo: Demo) -> ChurnFit:
    return fit_churn(
        demo.project.engine, None, train_cutoff=T0, test_cutoff=T1, horizon_days=HORIZON
    )


def _copy(demo: Demo, folder: Path) -> Project:
    demo.project.engine.con.raw_sql("CHECKPOINT")
    shutil.copytree(demo.root, folder)
    return Project.open(folder)


# -- no leakage ------------------------------------------------------------------------------
def test_features_never_see_a_row_at_or_after_the_cutoff(demo: Demo, tmp_path: Path) -> None:
    before = trait_frame(demo.project.engine, None, T0)
    changed = _copy(demo, tmp_path / "changed")
    try:
        sql = changed.engine.con.raw_sql
        cut = f"TIMESTAMP '{T0:%Y-%m-%d %H:%M:%S}'"
        for table, col in TIME_COLUMNS.items():
            at = f"CAST({col} AS TIMESTAMP)"
            n = sql(f"SELECT count(*) FROM {table} WHERE {at} >= {cut}").fetchone()[0]
            assert n > 0, table  # the test must touch something in every table
            # delete half of the future, rewrite the rest so that it would change any trait
            sql(f"DELETE FROM {table} WHERE {at} >= {cut} AND hash(customer_id) % 2 = 0")
        sql(
            f"UPDATE transactions SET amount = amount * 10, category = 'Sko', channel = 'store' "
            f"WHERE order_date >= {cut}"
        )
        sql(f"UPDATE events SET event_type = 'service_ticket' WHERE event_time >= {cut}")
        sql(f"UPDATE consents SET granted = NOT granted WHERE consent_time >= {cut}")
        # subscriptions that started before and end after the cut-off: any later end
        sql(f"UPDATE subscriptions SET end_date = end_date + 400 WHERE end_date > {cut}")
        after = trait_frame(changed.engine, None, T0)
    finally:
        changed.close()
    pd.testing.assert_frame_equal(before, after)


def _orders(demo: Demo) -> pd.DataFrame:
    tx = demo.project.engine.table("transactions").select("customer_id", "order_date")
    return tx.to_pyarrow().to_pandas()


def test_purchase_labels_are_no_order_in_the_window_after_the_cutoff(demo: Demo) -> None:
    got = churn_labels(demo.project.engine, T0, HORIZON).to_pyarrow().to_pandas()
    got = got.set_index("customer_id")["churned"].sort_index()
    tx = _orders(demo)
    past = tx[(tx.order_date < T0) & (tx.order_date >= T0 - timedelta(days=365))]
    window = tx[(tx.order_date >= T0) & (tx.order_date < T0 + timedelta(days=HORIZON))]
    population = sorted(set(past.customer_id))
    expected = pd.Series(
        [c not in set(window.customer_id) for c in population], index=population, name="churned"
    )
    expected.index.name = "customer_id"
    pd.testing.assert_series_equal(got, expected)
    assert 0.3 < expected.mean() < 0.6  # a meaningful test: both outcomes are common


def test_labels_ignore_everything_outside_the_window(demo: Demo, tmp_path: Path) -> None:
    """Orders after the window, and the amounts of past orders, do not change a label."""
    before = churn_labels(demo.project.engine, T0, HORIZON).to_pyarrow().to_pandas()
    changed = _copy(demo, tmp_path / "changed")
    try:
        end = T0 + timedelta(days=HORIZON)
        sql = changed.engine.con.raw_sql
        n = sql(f"SELECT count(*) FROM transactions WHERE order_date >= TIMESTAMP '{end}'")
        assert n.fetchone()[0] > 0
        sql(f"DELETE FROM transactions WHERE order_date >= TIMESTAMP '{end}'")
        sql(f"UPDATE transactions SET amount = 0.01 WHERE order_date < TIMESTAMP '{T0}'")
        after = churn_labels(changed.engine, T0, HORIZON).to_pyarrow().to_pandas()
    finally:
        changed.close()
    key = "customer_id"
    pd.testing.assert_frame_equal(
        before.sort_values(key).reset_index(drop=True),
        after.sort_values(key).reset_index(drop=True),
    )


def test_subscription_labels_are_cancellations_in_the_window(demo: Demo) -> None:
    eng = demo.project.engine
    got = churn_labels(eng, T0, HORIZON, kind="subscription").to_pyarrow().to_pandas()
    s = eng.table("subscriptions").to_pyarrow().to_pandas()
    start, end = pd.to_datetime(s.start_date), pd.to_datetime(s.end_date)
    cut, stop = pd.Timestamp(T0), pd.Timestamp(T0 + timedelta(days=HORIZON))
    active = s[(start < cut) & (end.isna() | (end > cut))]
    a_end = pd.to_datetime(active.end_date)
    ended = set(active[(a_end > cut) & (a_end <= stop)].customer_id)
    expected = {c: c in ended for c in set(active.customer_id)}
    assert dict(zip(got.customer_id, got.churned, strict=True)) == expected
    assert 0 < sum(expected.values()) < len(expected)


def test_backtest_must_not_overlap_the_training_window(demo: Demo) -> None:
    with pytest.raises(ValueError, match="at least horizon_days=90 after"):
        fit_churn(demo.project.engine, train_cutoff=T0, test_cutoff=T0 + timedelta(days=60))


# -- the planted truth -------------------------------------------------------------------------
def _history(demo: Demo, customers: pd.Index, cut: datetime) -> pd.DataFrame:
    """(x, t_x) in days of each customer's orders before ``cut``."""
    tx = _orders(demo)
    tx = tx[tx.order_date < cut]
    g = tx.groupby("customer_id").order_date
    first, last, n = g.min(), g.max(), g.size()
    return pd.DataFrame(
        {"x": (n - 1).astype(float), "t_x": (last - first).dt.days.astype(float)}
    ).loc[customers]


def _days(stamps: pd.Series) -> np.ndarray:
    return np.asarray((pd.to_datetime(stamps) - EPOCH).dt.total_seconds() / 86_400.0)


def known_spells(demo: Demo, customers: pd.Index, cut: datetime) -> list[Spells]:
    """The churn drivers' spells (see ``demo/_defection.py``) known at ``cut``.

    Read from the tables as they stand before the cut: each service ticket, each survey
    answer with NPS 0-6, each time without email consent (to the grant, if one came before
    the cut), and offline-only customers from signup (the planted flag).  Spells that
    start after the cut are unknown; so are tickets and answers inside the horizon.
    """
    where = {c: i for i, c in enumerate(customers)}
    drivers = demo.truth["churn_drivers"]
    coef, window = drivers["coefficients"], drivers["window_days"]
    c = pd.Timestamp(cut)
    eng = demo.project.engine
    ev = eng.table("events").select("customer_id", "event_type", "event_time").to_pandas()
    tk = ev[(ev.event_type == "service_ticket") & (ev.event_time < c)]
    tk = tk[tk.customer_id.isin(where)]
    spells = [
        Spells.lasting(
            tk.customer_id.map(where).to_numpy(),
            _days(tk.event_time),
            coef["service_tickets"],
            window["service_tickets"],
        )
    ]
    sr = eng.table("survey_responses").select("customer_id", "response_date", "nps").to_pandas()
    sr = sr[(sr.nps <= 6) & (pd.to_datetime(sr.response_date) < c)]
    sr = sr[sr.customer_id.isin(where)]
    spells.append(
        Spells.lasting(
            sr.customer_id.map(where).to_numpy(),
            _days(sr.response_date),
            coef["low_nps"],
            window["low_nps"],
        )
    )
    co = eng.table("consents").to_pandas()
    co = co[(co.channel == "email") & (co.consent_time < c) & co.customer_id.isin(where)]
    co = co.sort_values(["customer_id", "consent_time"])
    co["until"] = co.groupby("customer_id").consent_time.shift(-1)
    off = co[~co.granted]
    stop = np.where(off.until.notna(), _days(off.until.fillna(c)), np.inf)
    spells.append(
        Spells(
            off.customer_id.map(where).to_numpy(),
            _days(off.consent_time),
            stop,
            coef["no_email_consent"],
        )
    )
    offline = next(name for name in coef if name.endswith("_only"))
    t = demo.customers.loc[customers]
    only = np.flatnonzero(t[offline].to_numpy())
    spells.append(Spells.lasting(only, t.t0_days.to_numpy()[only], coef[offline], None))
    return spells


def truth_churn_probability(
    demo: Demo, customers: pd.Index, cut: datetime, *, drivers: bool = True, steps: int = 160
) -> np.ndarray:
    """P(no order in the horizon) given the history and the planted truth.

    The demo draws each customer's purchase rate ``lambda ~ Gamma(r, alpha)`` and dropout
    probability ``p ~ Beta(a, b)`` from their latent group; after each repeat order they
    leave with probability ``p``; besides, the churn drivers' spells give a defection
    hazard ``mu(t)`` (survival ``S(t) = exp(-M(t))``).  With ``G(s) = E[lambda^x
    exp(-lambda s)]`` (closed form over the Gamma), the likelihood of ``x`` repeat orders,
    the last at ``t_x``, up to ``T`` is

        E[p (1-p)^(x-1)] G(t_x) S(t_x)                       (left after the last order)
        + E[(1-p)^x] (int_{t_x}^{T} G(d) dS(-d) + S(T) G(T))  (defected in between, or not)

    and the chance of no order up to ``T + horizon`` is the same with ``T + horizon`` in
    place of ``T``; the probability is their ratio.  The integral is a Stieltjes sum on a
    fine grid (``M`` is piecewise linear).  This is the best a classifier can do that knows
    the planted truth and the drivers so far but not the customer's own draws.
    """
    h = _history(demo, customers, cut)
    t = demo.customers.loc[customers]
    spells = known_spells(demo, customers, cut) if drivers else []
    n = len(customers)
    t0, x, tx = t.t0_days.to_numpy(), h.x.to_numpy(), h.t_x.to_numpy()
    last, now = t0 + tx, float((pd.Timestamp(cut) - EPOCH).days)
    u = np.linspace(0.0, 1.0, steps)
    grid = np.concatenate(
        [last[:, None] + (now - last)[:, None] * u, now + HORIZON * np.tile(u[1:], (n, 1))],
        axis=1,
    )
    at = np.repeat(np.arange(n), grid.shape[1])
    M = cumulative_hazard(spells, at, grid.ravel()).reshape(grid.shape)
    S = np.exp(-M)
    out = np.empty(n)
    for group, params in demo.truth["bgnbd"].items():
        m = (t.group == group).to_numpy()
        if not m.any():
            continue
        r, alpha, a, b = params["r"], params["alpha"], params["a"], params["b"]
        xm, since = x[m][:, None], grid[m] - t0[m][:, None]
        # G relative to G(t_x), so that frequent buyers do not underflow
        G = np.exp(-(r + xm) * (np.log(alpha + since) - np.log(alpha + tx[m][:, None])))
        mid = (G[:, 1:] + G[:, :-1]) / 2
        leaving = np.cumsum((S[m][:, :-1] - S[m][:, 1:]) * mid, axis=1)
        alive = np.exp(betaln(a, b + x[m]) - betaln(a, b))
        dead = np.where(x[m] > 0, np.exp(betaln(a + 1, b + x[m] - 1) - betaln(a, b)), 0.0)
        dead = dead * S[m][:, 0]
        k = steps - 1  # the grid point at the cut
        evidence = dead + alive * (leaving[:, k - 1] + S[m][:, k] * G[:, k])
        no_order = dead + alive * (leaving[:, -1] + S[m][:, -1] * G[:, -1])
        out[m] = no_order / evidence
    return out


def test_churn_auc_is_within_0_02_of_the_planted_truth(demo: Demo, fit: ChurnFit) -> None:
    """Tolerance 0.02 (the issue's): the model does not know the customer's latent group,
    dropout probability and driver spells and must learn from 4,500 customers; the AUC's
    sampling error on 5,000 test customers is about 0.004."""
    from segmint.models import churn_frame

    X1, y1 = churn_frame(demo.project.engine, None, T1, HORIZON)
    truth = truth_churn_probability(demo, X1.index, T1)
    truth_auc = roc_auc_score(y1, truth)
    assert 0.92 < truth_auc < 0.96  # measured 0.939: the data are as expected
    # the drivers carry information the order history does not: measured +0.010
    without = roc_auc_score(y1, truth_churn_probability(demo, X1.index, T1, drivers=False))
    assert truth_auc - without > 0.005
    assert fit.backtest.auc >= truth_auc - 0.02  # measured 0.931
    assert fit.backtest.customers == len(X1)
    assert fit.backtest.events == int(y1.sum())
    assert fit.backtest.pr_auc > 0.88  # base rate 0.56
    # the top decile all churn: 1 / 0.56 = 1.8
    assert fit.backtest.lift_top_decile > 0.95 / y1.mean()
    worst = max(abs(b.predicted - b.observed) for b in fit.backtest.calibration)
    assert worst < 0.06  # calibrated: each decile's mean probability within 6 points


@pytest.mark.slow
def test_drivers_name_the_planted_drivers(tmp_path: Path) -> None:
    """Every planted driver is named, well above traits with no planted effect.

    The demo's drivers (service tickets, no email consent, buying only in store, a low
    NPS) each add a defection hazard from their start (``demo/_defection.py``), so a
    customer who still buys but has one is likelier to stop within the horizon.  The
    traits that show them: ``service_tickets_<w>``, ``consent_email``, ``top_channel`` /
    ``distinct_channels`` (one channel, the store) and ``nps_last``.  Their importance is
    a drop in AUC of 0.001-0.007 (the history already says most: recency comes first), so
    the demo has 40,000 customers: with 10,000 a trait with no planted effect (region,
    30 levels) reached 0.0016 by chance.  Measured (seed 3): tickets 0.0065 (3rd),
    distinct channels 0.0019, consent 0.0018, NPS 0.0015; gender, country, region under
    0.0004.
    """
    d = _store(tmp_path / "demo", 40_000, 3)
    try:
        fit = fit_churn(
            d.project.engine, None, train_cutoff=T0, test_cutoff=T1, horizon_days=HORIZON
        )
    finally:
        d.project.close()
    rank = {x.name: i for i, x in enumerate(fit.drivers)}
    importance = {x.name: x.importance for x in fit.drivers}
    assert set(list(rank)[:2]) == {"recency_days", "recency_ratio"}  # in either order
    no_effect = max(importance[n] for n in ("gender", "country", "region"))
    shown_by = {
        "service_tickets": ("service_tickets",),
        "no_email_consent": ("consent_email",),
        "store_only": ("top_channel", "distinct_channels"),
        "low_nps": ("nps_last",),
    }
    assert set(shown_by) == set(d.truth["churn_drivers"]["coefficients"])
    for planted, traits in shown_by.items():
        best = min(traits, key=lambda name: rank[name])
        assert rank[best] < 12, (planted, best, rank[best])
        assert importance[best] > max(3 * no_effect, 0.001), (planted, importance[best])


def test_scores_carry_probability_and_reasons_in_words(demo: Demo, fit: ChurnFit) -> None:
    scores = fit.scores(demo.project.engine, None, T1).to_pandas().set_index("customer_id")
    X1 = trait_frame(demo.project.engine, None, T1)
    assert scores.index.is_unique
    assert scores.index.is_monotonic_increasing
    assert scores.churn_probability.between(0, 1).all()
    # a customer at the top: not bought for long, and the words say how long exactly
    top = scores.churn_probability.idxmax()
    assert f"no purchase in {X1.recency_days[top]:,.0f} days" in scores.churn_reasons[top]
    risky = scores[scores.churn_probability > 0.5]
    assert (risky.churn_reasons != "").mean() > 0.95


def test_card_records_window_features_and_metrics(fit: ChurnFit, tmp_path: Path) -> None:
    import json

    card = fit.card.to_dict()
    assert card["model"] == "churn: no purchase in 90 days"
    assert card["data"]["train_cutoff"] == "2025-10-01"
    assert card["data"]["test_cutoff"] == "2026-04-01"
    assert "recency_days" in card["features"]
    assert "email" not in card["features"]
    assert card["metrics"]["auc"] == fit.backtest.auc
    assert len(card["metrics"]["calibration"]) == 10
    assert json.loads(fit.card.save(tmp_path / "card.json").read_text()) == card


# -- the parts -------------------------------------------------------------------------------
def test_classifier_follows_the_estimator_contract() -> None:
    clf = TraitClassifier(max_iter=20, min_samples_leaf=2, cv=2)
    assert clone(clf).get_params() == clf.get_params()
    frame = pd.DataFrame({"a": np.arange(40.0), "b": ["x", "y"] * 20})
    with pytest.raises(NotFittedError):
        clf.predict_proba(frame)
    y = (np.arange(40) >= 20).astype(int)
    assert clf.fit(frame, y) is clf
    assert clf.n_features_in_ == 2
    assert clf.categories_ == {"b": ["x", "y"]}
    unseen = pd.DataFrame({"a": [39.0, 0.0], "b": ["z", None]})  # unseen text is missing
    proba = clf.predict_proba(unseen)
    assert proba.shape == (2, 2)
    assert proba[0, 1] > proba[1, 1]
    with pytest.raises(ValueError, match="lacks the features"):
        clf.predict_proba(frame[["a"]])
    with pytest.raises(ValueError, match="must be 0/1"):
        TraitClassifier().fit(frame, np.arange(40))


def test_backtest_metrics_on_a_hand_computed_case() -> None:
    y = np.array([1, 1, 0, 1, 0, 0, 0, 0, 0, 0])
    s = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0])
    b = evaluate(y, s, bins=5)
    # positives outrank 7 + 7 + 6 of the 21 (positive, negative) pairs
    assert b.auc == pytest.approx(20 / 21)
    assert b.pr_auc == pytest.approx((1 + 1 + 3 / 4) / 3)
    assert b.lift_top_decile == pytest.approx(1 / 0.3)
    assert [c.observed for c in b.calibration] == [0.0, 0.0, 0.0, 0.5, 1.0]
    assert b.calibration[-1].predicted == pytest.approx(0.85)
    with pytest.raises(ValueError, match="with and without"):
        evaluate(np.zeros(3), np.arange(3.0))


@pytest.mark.parametrize(
    ("driver", "row", "words"),
    [
        (
            ("email_opens", ("email_opens_30d", "email_opens_90d")),
            [0, 12],
            "email opens fell from 6 to 0 per 30 days",
        ),
        (
            ("service_tickets", ("service_tickets_30d", "service_tickets_90d")),
            [2, 2],
            "service tickets rose from 0 to 2 per 30 days",
        ),
        (("recency_days", ("recency_days",)), [94.0], "no purchase in 94 days"),
        (("consent_email", ("consent_email",)), [0.0], "no email consent"),
        (("consent_email", ("consent_email",)), [np.nan], "never asked for email consent"),
        (
            ("top_channel", ("top_channel",)),
            ["store"],
            "buys mostly via store (retained customers: webshop)",
        ),
        (("nps_last", ("nps_last",)), [3.0], "NPS 3 (retained customers: 9)"),
    ],
)
def test_reasons_in_plain_words(
    driver: tuple[str, tuple[str, ...]], row: list[Any], words: str
) -> None:
    d = Driver(driver[0], driver[1], 0.1, 0.0)
    reference = {"top_channel": "webshop", "nps_last": 9.0}
    assert describe(d, dict(zip(driver[1], row, strict=True)), reference) == words
