"""The demo generator: deterministic, schema-exact, and honest about its planted truth.

The statistical tests compare what the tables show with what the stored per-customer
draws imply *in expectation*, as z-scores: a correct simulator lands within a few
standard errors, and each test also checks that a plausible wrong simulator would not.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import phonenumbers
import pyarrow as pa
import pytest
from stdnum.dk import cvr
from stdnum.no import orgnr as no_orgnr
from stdnum.se import orgnr as se_orgnr

from segmint.datamodel import ENTITIES
from segmint.demo import DemoData, generate, load_truth
from segmint.demo._arrow import ARROW_TYPES
from segmint.demo._wallet import SURVEY_COLUMN

N = 40_000
Z = 4.0  # tolerance in standard errors


@pytest.fixture(scope="module")
def b2c() -> DemoData:
    return generate(N, seed=0)


@pytest.fixture(scope="module")
def b2c_mbgnbd() -> DemoData:
    return generate(N, seed=1, dropout_at_first_purchase=True)


@pytest.fixture(scope="module")
def b2b() -> DemoData:
    return generate(2000, seed=0, b2b=True)


def _truth(data: DemoData) -> pd.DataFrame:
    return data.customer_truth.to_pandas().set_index("customer_id")


def _orders(data: DemoData) -> pd.DataFrame:
    return (
        data.tables["transactions"]
        .select(["customer_id", "order_date", "amount", "channel"])
        .to_pandas()
    )


def _z(observed: np.ndarray, expected: np.ndarray) -> float:
    """z-score of mean(observed - expected) using the residuals' own spread."""
    r = observed.astype(float) - expected
    return float(r.mean() / (r.std(ddof=1) / np.sqrt(len(r))))


# --------------------------------------------------------------------------- determinism


def test_same_seed_gives_identical_data_and_another_seed_does_not() -> None:
    a, b, c = generate(400, seed=5), generate(400, seed=5), generate(400, seed=6)
    assert a.tables.keys() == b.tables.keys()
    for name in a.tables:
        assert a.tables[name].equals(b.tables[name]), name
    assert a.customer_truth.equals(b.customer_truth)
    assert json.dumps(a.truth, sort_keys=True) == json.dumps(b.truth, sort_keys=True)
    assert not a.tables["transactions"].equals(c.tables["transactions"])
    assert not a.tables["customers"].equals(c.tables["customers"])


def test_truth_is_saved_and_reloaded(b2c: DemoData, tmp_path: Path) -> None:
    b2c.save_truth(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "truth.json",
        "truth_customers.parquet",
        "truth_identity.parquet",
    ]
    truth, customers = load_truth(tmp_path)
    assert truth == json.loads(json.dumps(b2c.truth))
    assert customers.equals(b2c.customer_truth)
    for key in (
        "window",
        "purchase_model",
        "bgnbd",
        "gamma_gamma",
        "churn_drivers",
        "needs",
        "campaign",
        "market",
        "counts",
        "categories",
        "channels",
        "nps",
    ):
        assert key in truth
    assert truth["window"] == truth["window"] | {
        "history_start": "2022-01-01",
        "observation_end": "2026-09-30",
    }
    assert truth["counts"]["customers"] == N


# --------------------------------------------------------------------------- schema


@pytest.mark.parametrize("fixture", ["b2c", "b2b"])
def test_tables_have_exactly_the_datamodel_fields_and_types(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    data: DemoData = request.getfixturevalue(fixture)
    for name, table in data.tables.items():
        if name.startswith("market_"):
            continue
        entity = ENTITIES[name]
        k = len(entity.fields)
        assert tuple(table.column_names[:k]) == entity.field_names, name
        for f in entity.fields:
            assert table.schema.field(f.name).type == ARROW_TYPES[f.type], (name, f.name)
        for required in entity.required:
            assert table[required].null_count == 0, (name, required)
        extra = table.column_names[k:]
        survey = [*data.truth["needs"]["items"], *([SURVEY_COLUMN] if fixture == "b2c" else [])]
        assert extra == ([] if name != "survey_responses" else survey)
    market = data.tables["market_households"]
    assert market.schema == pa.schema(
        [("region", pa.string()), ("age_band", pa.string()), ("households", pa.int64())]
    )
    expected = {
        "customers",
        "transactions",
        "events",
        "consents",
        "survey_responses",
        "subscriptions",
        "campaigns",
        "campaign_contacts",
        "market_households",
    }
    if fixture == "b2b":
        expected |= {"contacts", "deals", "market_companies"}
    else:
        expected |= {"market_wallet"}
    assert set(data.tables) == expected


@pytest.mark.parametrize("fixture", ["b2c", "b2b"])
def test_keys_are_unique_and_references_resolve(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    data: DemoData = request.getfixturevalue(fixture)
    t = {k: v.to_pandas() for k, v in data.tables.items()}
    ids = set(t["customers"]["customer_id"])
    for name, frame in t.items():
        if name.startswith("market_"):
            continue
        key = list(ENTITIES[name].key)
        assert not frame.duplicated(key).any(), name
        ref = ENTITIES[name].customer_field
        if ref:
            assert set(frame[ref]) <= ids, name
    assert (t["transactions"]["line_no"] == 1).all()
    # events and survey answers are keyed by their content on load: no two may be equal
    for name, id_column in (("events", "event_id"), ("survey_responses", "response_id")):
        assert not t[name].drop(columns=[id_column]).duplicated().any(), name
    assert set(t["campaign_contacts"]["campaign_id"]) <= set(t["campaigns"]["campaign_id"])


def test_volumes_per_customer(b2c: DemoData) -> None:
    counts = b2c.truth["counts"]
    # about 16 orders a customer (20 before churn drivers could end a customer between
    # orders), 11 events (13 then), a third answered the survey
    assert 13 <= counts["transactions"] / N <= 20
    assert 9 <= counts["events"] / N <= 14
    assert 0.28 <= counts["survey_responses"] / N <= 0.40
    assert 3.0 <= counts["consents"] / N <= 3.6


# --------------------------------------------------------------------------- BG/NBD + GG


def _repeat_counts(data: DemoData, truth: pd.DataFrame) -> np.ndarray:
    n = _orders(data).groupby("customer_id").size()
    return (n.reindex(truth.index).to_numpy() - 1).astype(float)


@pytest.mark.parametrize("fixture", ["b2c", "b2c_mbgnbd"])
def test_repeat_purchases_match_the_planted_process(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    data: DemoData = request.getfixturevalue(fixture)
    first = data.truth["purchase_model"]["dropout_at_first_purchase"]
    truth = _truth(data)
    x = _repeat_counts(data, truth)
    assert (x == truth["n_repeat"].to_numpy()).all()
    lam, p, span = truth["lambda_"].to_numpy(), truth["p_"].to_numpy(), truth["T_days"].to_numpy()
    # E[x | lambda, p, T] = (1-p)^k / p * (1 - exp(-lambda p T)), k = 1 with dropout at the
    # first purchase (MBG/NBD), 0 without (BG/NBD); P(alive) = (1-p)^k exp(-lambda p T);
    # for customers without churn drivers (the others may also defect between purchases)
    survive = np.exp(-lam * p * span)
    k_right, k_wrong = (1, 0) if first else (0, 1)
    plain = ~truth["has_churn_driver"].to_numpy()
    assert plain.mean() > 0.1
    for group in truth["group"].unique():
        m = (truth["group"] == group).to_numpy() & plain
        right = (1 - p[m]) ** k_right / p[m] * (1 - survive[m])
        wrong = (1 - p[m]) ** k_wrong / p[m] * (1 - survive[m])
        assert abs(_z(x[m], right)) < Z, group
        alive = truth["alive_at_end"].to_numpy()[m]
        assert abs(_z(alive, (1 - p[m]) ** k_right * survive[m])) < Z, group
        if group == "one-off":  # there the two models differ most: the test has power
            assert abs(_z(x[m], wrong)) > 2 * Z


def test_customers_alive_at_the_end_buy_at_rate_lambda_times_one_minus_p(b2c: DemoData) -> None:
    # Given alive at the end, the repeat count is Poisson(lambda (1 - p) T): thinning by the
    # survival probability (1 - p) per purchase.  Not having defected does not change this:
    # the drivers' defection day is drawn independently of the purchases.
    truth = _truth(b2c)
    x = _repeat_counts(b2c, truth)
    alive = truth["alive_at_end"].to_numpy()
    thinned = (truth["lambda_"] * truth["T_days"] * (1 - truth["p_"])).to_numpy()
    for group in truth["group"].unique():
        m = alive & (truth["group"] == group).to_numpy()
        assert m.sum() > 50
        se = np.sqrt(thinned[m].sum())  # Poisson: variance = mean
        assert abs(x[m].sum() - thinned[m].sum()) < Z * se, group
    # (selection by survival favours small p, so lambda T itself is close: no power check)


def test_repeat_purchase_times_are_uniform_over_the_window(b2c: DemoData) -> None:
    truth = _truth(b2c)
    alive = truth[truth["alive_at_end"]]
    orders = _orders(b2c)
    orders = orders[orders["customer_id"].isin(alive.index)].copy()
    epoch = np.datetime64("2022-01-01T00:00:00")
    orders["day"] = (orders["order_date"].to_numpy() - epoch) / np.timedelta64(1, "D")
    orders = orders.join(alive[["t0_days", "T_days"]], on="customer_id")
    repeat = orders[orders["day"] > np.floor(orders["t0_days"])]
    # order dates are whole days; the middle of the day estimates the time
    u = ((repeat["day"] + 0.5 - repeat["t0_days"]) / repeat["T_days"]).clip(0, 1).to_numpy()
    assert abs(u.mean() - 0.5) < Z * np.sqrt(1 / 12 / len(u))
    assert abs((u < 0.25).mean() - 0.25) < Z * np.sqrt(0.25 * 0.75 / len(u))


@pytest.mark.parametrize("fixture", ["b2c", "b2b"])
def test_spend_follows_gamma_gamma(fixture: str, request: pytest.FixtureRequest) -> None:
    data: DemoData = request.getfixturevalue(fixture)
    truth = _truth(data)
    spend = _orders(data).groupby("customer_id")["amount"].agg(["sum", "count"])
    spend = spend.reindex(truth.index)
    p, nu = truth["p_gg"].to_numpy(), truth["nu_"].to_numpy()
    n = spend["count"].to_numpy()
    # per order Gamma(p, rate nu): mean p / nu, variance p / nu^2
    expected, var = (n * p / nu).sum(), (n * p / nu**2).sum()
    assert abs(spend["sum"].sum() - expected) < Z * np.sqrt(var)
    assert np.allclose(truth["expected_spend"], p / nu)
    gg = data.truth["gamma_gamma"]
    for group, params in gg.items():
        m = (truth["group"] == group).to_numpy()
        assert set(truth.loc[m, "p_gg"]) == {params["p"]}
        # nu ~ Gamma(q, rate gamma): mean q / gamma
        nu_m = nu[m]
        assert abs(nu_m.mean() - params["q"] / params["gamma"]) < Z * nu_m.std() / np.sqrt(m.sum())


def test_planted_bgnbd_draws_follow_their_group_distributions(b2c: DemoData) -> None:
    truth = _truth(b2c)
    for group, prm in b2c.truth["bgnbd"].items():
        m = truth["group"] == group
        lam, p0 = truth.loc[m, "lambda_"], truth.loc[m, "p_"]
        assert abs(lam.mean() - prm["r"] / prm["alpha"]) < Z * lam.std() / np.sqrt(m.sum())
        mean_p = prm["a"] / (prm["a"] + prm["b"])
        assert abs(p0.mean() - mean_p) < Z * p0.std() / np.sqrt(m.sum())


# --------------------------------------------------------------------------- churn drivers


def test_churn_drivers_are_observable_in_the_tables(b2c: DemoData) -> None:
    truth = _truth(b2c)
    t = {k: v.to_pandas() for k, v in b2c.tables.items()}
    ev = t["events"]
    tickets = ev[ev["event_type"] == "service_ticket"].groupby("customer_id").size()
    assert (tickets.reindex(truth.index, fill_value=0) == truth["service_tickets"]).all()
    cons = t["consents"]
    latest = (
        cons[cons["channel"] == "email"]
        .sort_values("consent_time")
        .groupby("customer_id")["granted"]
        .last()
    )
    assert ((~latest.reindex(truth.index)) == truth["no_email_consent"]).all()
    tx = t["transactions"]
    store_only = tx.groupby("customer_id")["channel"].agg(lambda s: (s == "store").all())
    assert (store_only.reindex(truth.index) == truth["store_only"]).all()
    sr = t["survey_responses"].set_index("customer_id")
    low = (sr["nps"] <= 6).reindex(truth.index, fill_value=False)
    assert (low == truth["low_nps"]).all()

    # only customers with a driver defect, and only after signup; whoever defected is gone
    # for good: no order after the day they left
    has = truth["has_churn_driver"]
    drivers = b2c.truth["churn_drivers"]["coefficients"]
    # a driver at the end means a spell; a spell may also have ended (a late email grant)
    assert has[(truth[list(drivers)].astype(float) > 0).any(axis=1)].all()
    defected = truth["defected"]
    assert not defected[~has].any()
    assert 0.1 < defected[has].mean() < 0.9
    assert not (defected & truth["alive_at_end"]).any()
    left = pd.to_datetime(truth.loc[defected, "dropout_date"])
    last = tx.groupby("customer_id")["order_date"].max().reindex(left.index)
    assert (last.dt.normalize() <= left).all()
    # the drivers matter: customers with a driver leave more often
    dead = ~truth["alive_at_end"]
    for name in drivers:
        with_it = truth[name].astype(float) > 0
        assert dead[with_it].mean() > dead[~has].mean() + 0.05, name


# --------------------------------------------------------------------------- survey, campaign


def test_survey_answers_follow_the_needs_classes(b2c: DemoData) -> None:
    truth = _truth(b2c)
    sr = b2c.tables["survey_responses"].to_pandas().join(truth["needs_class"], on="customer_id")
    probs = b2c.truth["needs"]["item_probabilities"]
    levels = np.arange(1, 6)
    for cls, items in probs.items():
        answers = sr[sr["needs_class"] == cls]
        assert len(answers) > 30
        for item, p in items.items():
            p = np.array(p)
            mean, sd = (levels * p).sum(), np.sqrt(((levels - (levels * p).sum()) ** 2 * p).sum())
            assert abs(answers[item].mean() - mean) < Z * sd / np.sqrt(len(answers)), (cls, item)
    assert set(sr["nps"]) <= set(range(11))


def test_web_visit_sources_and_devices_follow_the_groups(b2c: DemoData) -> None:
    """Each group's planted mix of traffic sources and devices (truth: engagement) is what
    its web visits show, within Z standard errors of each share (visits are independent
    draws given the group)."""
    truth = _truth(b2c)
    ev = b2c.tables["events"].select(["customer_id", "event_type", "source", "device"])
    visits = (
        ev.to_pandas().query("event_type == 'web_visit'").join(truth["group"], on="customer_id")
    )
    checked = 0
    for group, planted in b2c.truth["engagement"].items():
        mine = visits[visits["group"] == group]
        for column in ("sources", "devices"):
            if planted[column] is None:
                continue
            seen = mine[column[:-1]].value_counts(normalize=True)
            for value, p in planted[column].items():
                se = np.sqrt(p * (1 - p) / len(mine))
                assert abs(seen.get(value, 0.0) - p) <= Z * se + 1e-12, (group, value)
                checked += 1
    assert checked >= 4 * (6 + 3)  # every group plants both mixes


def test_campaign_has_a_random_control_arm_and_the_stored_cate(b2c: DemoData) -> None:
    truth = _truth(b2c)
    cc = b2c.tables["campaign_contacts"].to_pandas().set_index("customer_id")
    assert set(cc.index) == set(truth.index[truth["campaign_targeted"]])
    control = (cc["arm"] == "control").mean()
    assert abs(control - 0.2) < Z * np.sqrt(0.16 / len(cc))
    treated = truth.loc[cc.index, "campaign_treated"]
    assert ((cc["arm"] == "treatment") == treated).all()
    assert (cc.loc[~cc["responded"], "response_value"] == 0).all()
    assert (cc.loc[cc["responded"], "response_value"] > 0).all()
    camp = b2c.truth["campaign"]
    tc = truth[truth["campaign_targeted"]]
    for group, value in camp["cate_by_group"].items():
        assert value == pytest.approx(tc.loc[tc["group"] == group, "campaign_cate"].mean())
    assert camp["ate"] == pytest.approx(tc["campaign_cate"].mean())
    # responses: E[responded] = baseline + treated * cate, customer by customer
    expected = tc["campaign_baseline"] + tc["campaign_treated"] * tc["campaign_cate"]
    resp = cc.loc[tc.index, "responded"].to_numpy()
    assert abs(resp.sum() - expected.sum()) < Z * np.sqrt((expected * (1 - expected)).sum())
    # the effect is heterogeneous as planted: bargain hunters gain more than the loyal
    assert camp["cate_by_group"]["bargain hunters"] > camp["cate_by_group"]["loyal high-value"]


# --------------------------------------------------------------------------- people


def test_people_look_nordic_and_valid(b2c: DemoData) -> None:
    c = b2c.tables["customers"].to_pandas()
    assert set(c["customer_type"]) == {"person"}
    counts = Counter(c["country"])
    assert counts["DK"] > 0.6 * N
    assert {"SE", "NO", "FI"} <= set(counts)
    width = {"DK": 4, "NO": 4, "SE": 5, "FI": 5}
    assert all(
        re.fullmatch(rf"\d{{{width[k]}}}", z)
        for z, k in zip(c["postal_code"], c["country"], strict=True)
    )
    assert set(c.loc[c["country"] == "DK", "region"]) == {
        "Hovedstaden",
        "Sjælland",
        "Syddanmark",
        "Midtjylland",
        "Nordjylland",
    }
    age = (pd.Timestamp("2026-09-30") - pd.to_datetime(c["birth_date"])).dt.days / 365.25
    assert age.between(18, 91.01).all()
    assert set(c["gender"]) == {"female", "male"}
    emails = c["email"].dropna()
    assert (emails == emails.str.lower()).all()
    assert emails.str.fullmatch(r"[a-z0-9._]+@[a-z0-9.-]+\.[a-z]{2,}").all()
    assert 0 < emails.duplicated().sum() < 0.03 * N  # a few shared in households
    sample = c["phone"].dropna().sample(400, random_state=0)
    for number, country in zip(sample, c.loc[sample.index, "country"], strict=True):
        parsed = phonenumbers.parse(number)
        assert phonenumbers.is_valid_number(parsed), number
        assert phonenumbers.region_code_for_number(parsed) == country
    households = c.groupby("household_id")
    shared = households.filter(lambda h: len(h) > 1)
    assert len(shared) > 0.1 * N
    assert (shared.groupby("household_id")["address"].nunique() == 1).all()
    assert (pd.to_datetime(c["signup_date"]) >= "2022-01-01").all()


def test_market_holds_more_households_than_customers(b2c: DemoData) -> None:
    c = b2c.customer_truth.to_pandas()[["customer_id", "age_band"]].merge(
        b2c.tables["customers"].select(["customer_id", "region"]).to_pandas()
    )
    cells = c.groupby(["region", "age_band"]).size()
    market = b2c.tables["market_households"].to_pandas().set_index(["region", "age_band"])
    joined = market.join(cells.rename("customers")).fillna(0)
    assert (joined["households"] > joined["customers"]).all()
    assert set(cells.index) <= set(market.index)
    assert b2c.truth["market"]["households_total"] == market["households"].sum()


# --------------------------------------------------------------------------- B2B


def test_companies_have_valid_org_numbers_and_firmographics(b2b: DemoData) -> None:
    c = b2b.tables["customers"].to_pandas()
    assert set(c["customer_type"]) == {"company"}
    assert c["org_number"].is_unique
    check = {"DK": cvr, "NO": no_orgnr, "SE": se_orgnr}
    for number, country in zip(c["org_number"], c["country"], strict=True):
        assert number[:2] == country  # stored as ingest normalises: DK12345678
        assert check[country].is_valid(number[2:]), (country, number)
    assert {"DK", "SE", "NO"} == set(c["country"])
    assert c["nace_code"].str.fullmatch(r"\d{2}\.\d{2}").all()
    assert (c["employees"] >= 0).all()
    assert (c["employees"] < 10).mean() > 0.5
    assert (c["revenue"] > 0).all()
    assert c["owner"].notna().all()
    truth = _truth(b2b)
    band = pd.cut(
        c.set_index("customer_id")["employees"],
        [-1, 9, 49, 249, np.inf],
        labels=["0-9", "10-49", "50-249", "250+"],
    ).astype(str)
    assert (band == truth["size_band"]).all()


def test_contacts_work_at_their_company(b2b: DemoData) -> None:
    ct = b2b.tables["contacts"].to_pandas()
    per = ct.groupby("company_id").size()
    assert per.between(1, 5).all()
    assert len(per) == b2b.truth["n_customers"]
    domains = ct["email"].str.split("@").str[1]
    assert (domains.groupby(ct["company_id"]).nunique() == 1).all()
    assert ct["email"].is_unique
    for number in ct["phone"].sample(200, random_state=0):
        assert phonenumbers.is_valid_number(phonenumbers.parse(number))


def test_deal_win_probability_follows_nace_and_size(b2b: DemoData) -> None:
    deals = b2b.tables["deals"].to_pandas()
    closed = deals[deals["stage"] != "open"]
    assert deals.loc[deals["stage"] == "open", "closed_date"].isna().all()
    assert closed["closed_date"].notna().all()
    assert (closed["closed_date"] > closed["created_date"]).all()
    comp = b2b.tables["customers"].to_pandas().set_index("customer_id")
    band = _truth(b2b)["size_band"]
    wp = b2b.truth["deals"]["win_probability"]
    logit = (
        wp["intercept"]
        + closed["customer_id"].map(comp["nace_code"]).map(wp["nace"])
        + closed["customer_id"].map(band).map(wp["size_band"])
    )
    p = 1 / (1 + np.exp(-logit.to_numpy()))
    won = (closed["stage"] == "won").to_numpy()
    assert abs(won.sum() - p.sum()) < Z * np.sqrt((p * (1 - p)).sum())
    # and a model ignoring firmographics (one overall rate) misses the per-band rates
    small = closed["customer_id"].map(band).eq("0-9").to_numpy()
    assert won[small].mean() < won[~small].mean()


def test_market_companies_exceed_customers(b2b: DemoData) -> None:
    truth = _truth(b2b)
    comp = b2b.tables["customers"].to_pandas().set_index("customer_id")
    cells = pd.DataFrame(
        {"nace_code": comp["nace_code"], "size_band": truth["size_band"]}
    ).value_counts()
    market = b2b.tables["market_companies"].to_pandas().set_index(["nace_code", "size_band"])
    assert (market["companies"].reindex(cells.index) > cells).all()
    assert len(market) == 15 * 4
