"""The customer base on a small hand-built store, checked against plain pandas.

The store has a dozen customer records of which four share two persons (one person also
has two records with the same customer_id from two sources), an order-only customer id
that no customer record names, and rows before and after the as-of time in every activity
table.  Every built-in trait is recomputed here in pandas from the same frames.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import ibis
import pandas as pd
import pyarrow as pa
import pytest

from segmint.datamodel import ENTITIES
from segmint.engine import Engine, connect
from segmint.exceptions import ConfigError, UnknownTableError
from segmint.traits._activity import activity, person_map
from segmint.traits._base import customer_base
from segmint.traits._builtin import category_spend, one_line_per_order, survey_answers
from segmint.traits._catalogue import BUILTIN_TRAITS, builtin_trait_names, trait_catalog
from segmint.traits._config import TraitsConfig, parse_traits_config

AS_OF = datetime(2026, 6, 1, 12, 0)
START = datetime(2024, 1, 1)
#: customer_id -> person_id as identity resolution would write it (c14 is unresolved)
PERSONS = {
    **{f"c{i:02d}": f"c{i:02d}" for i in range(1, 12)},
    "c12": "c02",
    "c13": "c03",
}
CATEGORIES = ["Sko", "Sport", "Bolig", "Køkken", None]
CHANNELS = ["webshop", "store", "app", None]
EVENT_TYPES = ["email_send", "email_send", "email_open", "email_click", "web_visit",
               "page_view", "service_ticket"]  # fmt: skip
DEVICES = ["mobile", "desktop", "tablet", None]
SOURCES = ["google", "newsletter", "direct", None]


# -- the store --------------------------------------------------------------------------


def _customers() -> pd.DataFrame:
    rows = [
        # c01: birthday on the as-of date
        ("crm", "2026-01-01", "c01", "Anna", None, "anna@x.dk", None, "1980-06-01",
         "DK", None, "2023-01-10"),
        # c02 + c12: canonical values first, else the most recently loaded non-null one
        ("crm", "2026-01-01", "c02", "Bo", None, None, None, "1975-12-31",
         "DK", "Aarhus", "2022-05-01"),
        ("webshop", "2026-02-01", "c12", "Bob", None, "bo@x.dk", "+4520000002", None,
         "SE", "Odense", "2021-03-03"),
        # c03 twice (two sources) + c13: c03's newer record beats the newer c13 record
        ("crm", "2026-01-01", "c03", "Cia", "female", None, None, "2000-02-29",
         "NO", None, "2024-02-01"),
        ("webshop", "2026-03-01", "c03", None, "male", None, "+4520000003", None,
         None, "Bergen", None),
        ("crm", "2026-05-01", "c13", "Cecilie", "female", "cia@x.dk", "+4520000013",
         "2001-01-01", "DK", "Oslo", "2020-01-01"),
        # c04: no signup date and no orders: exists (start unknown)
        ("crm", "2026-01-01", "c04", "Dan", None, None, None, None, "DK", None, None),
        # c05: signs up after the as-of time and orders nothing before it: not yet a customer
        ("crm", "2026-01-01", "c05", "Eva", None, None, None, "1990-07-15",
         "DK", None, "2026-07-01"),
        # c06: signup date after as-of but an order before it: exists
        ("crm", "2026-01-01", "c06", "Finn", None, None, None, "1990-06-02",
         "FI", None, "2026-08-01"),
        ("crm", "2026-01-01", "c07", "Gry", None, None, None, "2030-01-01",
         "DK", None, "2024-03-01"),
        ("crm", "2026-01-01", "c08", "Hans", None, None, None, "1960-06-01",
         "DK", None, "2025-01-01"),
        ("crm", "2026-01-01", "c09", "Ida", None, None, None, None, "DK", None, "2024-06-01"),
        ("crm", "2026-01-01", "c10", "Jon", None, None, None, None, "DK", None, "2026-06-01"),
        ("crm", "2026-01-01", "c11", "Kim", None, None, None, None, "DK", None, "2025-11-11"),
        # c14: loaded after identity resolution ran: its own person
        ("crm", "2026-04-01", "c14", "Lis", None, None, None, None, "DK", None, "2025-05-05"),
    ]  # fmt: skip
    cols = ["_source", "_loaded_at", "customer_id", "first_name", "gender", "email", "phone",
            "birth_date", "country", "city", "signup_date"]  # fmt: skip
    df = pd.DataFrame(rows, columns=cols)
    df["_key"] = df["_source"] + "|" + df["customer_id"]
    df["_row"] = range(1, len(df) + 1)
    df["_loaded_at"] = pd.to_datetime(df["_loaded_at"])
    for c in ("birth_date", "signup_date"):
        df[c] = pd.to_datetime(df[c]).dt.date
    return df


def _random_time(rng: random.Random, start: datetime, end: datetime) -> datetime:
    seconds = int((end - start).total_seconds())
    return start + timedelta(seconds=rng.randrange(seconds))


def _transactions(rng: random.Random, *, after: bool = False) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    ids = ["c01", "c02", "c12", "c03", "c13", "c06", "c08", "c09", "c10", "c11", "c14", "zz"]
    start, end = (AS_OF, AS_OF + timedelta(days=200)) if after else (START, AS_OF)
    prefix = "a" if after else "o"
    n = 0
    for cid in ids:
        for _ in range(rng.randint(1, 9)):
            n += 1
            when = _random_time(rng, start, end)
            if cid == "c06" and not after:
                when = datetime(2025, 3, 3)
            for line in range(1, rng.randint(1, 3) + 1):
                rows.append(
                    {
                        "order_id": f"{prefix}{n}",
                        "line_no": line,
                        "customer_id": cid,
                        "order_date": when,
                        "category": rng.choice(CATEGORIES),
                        "channel": rng.choice(CHANNELS),
                        "amount": rng.randint(-4, 4000) / 4,
                    }
                )
            if cid == "c06":
                break
    if not after:
        # c07: a tie on orders between Sko and Bolig with equal spend -> Bolig (name A-Z);
        # on channels a tie on orders broken by spend -> webshop
        for i, (cat, ch, amount) in enumerate(
            [
                ("Sko", "webshop", 100.0),
                ("Bolig", "store", 50.0),
                ("Sko", "webshop", 50.0),
                ("Bolig", "store", 100.0),
                (None, "webshop", 25.0),
                (None, "store", 10.0),
            ]
        ):
            rows.append(
                {
                    "order_id": f"t{i}",
                    "line_no": 1,
                    "customer_id": "c07",
                    "order_date": datetime(2026, 5, 1 + i, 9),
                    "category": cat,
                    "channel": ch,
                    "amount": amount,
                }
            )
        # an order exactly at the as-of time is not before it
        rows.append(
            {
                "order_id": "edge",
                "line_no": 1,
                "customer_id": "c01",
                "order_date": AS_OF,
                "category": "Sko",
                "channel": "app",
                "amount": 999.0,
            }
        )
    df = pd.DataFrame(rows)
    df["_key"] = df["order_id"] + "|" + df["line_no"].astype(str)
    return df


def _events(rng: random.Random, *, after: bool = False) -> pd.DataFrame:
    rows = []
    start, end = (AS_OF, AS_OF + timedelta(days=100)) if after else (START, AS_OF)
    for cid in ["c01", "c02", "c12", "c03", "c04", "c08", "c09", "c11", "zz"]:
        for _ in range(rng.randint(0, 40)):
            # most events in the last year, so every window has some
            lo = max(start, end - timedelta(days=400)) if rng.random() < 0.8 else start
            rows.append(
                {
                    "customer_id": cid,
                    "event_time": _random_time(rng, lo, end),
                    "event_type": rng.choice(EVENT_TYPES),
                    "device": rng.choice(DEVICES),
                    "source": rng.choice(SOURCES),
                }
            )
    if not after:  # c10: a tie on devices (one each) -> desktop
        for device in ("tablet", "desktop"):
            rows.append({"customer_id": "c10", "event_time": datetime(2026, 5, 5),
                         "event_type": "web_visit", "device": device, "source": None})  # fmt: skip
    df = pd.DataFrame(rows)
    df["_key"] = [f"{'a' if after else 'e'}{i}" for i in range(len(df))]
    return df


def _subscriptions(*, after: bool = False) -> pd.DataFrame:
    d = date.fromisoformat
    rows = (
        [("s9", "c10", d("2026-06-02"), None, 30.0), ("s10", "c01", d("2026-07-01"), None, 5.0)]
        if after
        else [
            ("s1", "c01", d("2025-01-01"), None, 99.0),  # active
            ("s2", "c01", d("2024-01-01"), d("2024-12-31"), 49.0),  # ended
            ("s3", "c12", d("2026-01-01"), d("2026-06-02"), 20.0),  # ends after as-of: active
            ("s4", "c02", d("2025-01-01"), d("2026-06-01"), 10.0),  # ended at midnight before
            ("s5", "c08", d("2026-06-01"), None, 15.0),  # started at midnight before as-of
            ("s6", "c09", d("2026-06-02"), None, 15.0),  # starts after as-of
        ]
    )
    df = pd.DataFrame(
        rows, columns=["subscription_id", "customer_id", "start_date", "end_date", "monthly_amount"]
    )
    df["_key"] = df["subscription_id"]
    return df


def _surveys(*, after: bool = False) -> pd.DataFrame:
    d = date.fromisoformat
    rows = (
        [("a1", "c01", d("2026-06-02"), 0, 1), ("a2", "c08", d("2026-07-02"), 1, 1)]
        if after
        else [
            ("r1", "c01", d("2025-01-01"), 3, 2),
            ("r2", "c01", d("2026-02-01"), 9, 5),
            ("r3", "c12", d("2026-03-01"), 7, 4),
            ("r4", "c02", d("2026-04-01"), None, 3),  # latest, but without an nps
            ("r5", "c08", d("2026-05-01"), 6, 1),  # same day as r6: r6 (key) wins
            ("r6", "c08", d("2026-05-01"), 8, 2),
        ]
    )
    df = pd.DataFrame(rows, columns=["response_id", "customer_id", "response_date", "nps", "q1"])
    df["nps"] = df["nps"].astype("Int64")
    df["_key"] = df["response_id"]
    return df


def _consents(*, after: bool = False) -> pd.DataFrame:
    t = datetime.fromisoformat
    rows = (
        [("c01", "email", False, AS_OF), ("c02", "sms", True, t("2026-06-03"))]
        if after
        else [
            ("c01", "email", True, t("2025-01-01")),
            ("c01", "email", False, t("2025-06-01")),
            ("c01", "email", True, t("2026-01-01")),  # latest: granted
            ("c01", "sms", False, t("2025-01-01")),
            ("c02", "sms", True, t("2025-01-01")),
            ("c12", "sms", False, t("2025-02-01")),  # the merged record's later withdrawal
            ("c03", "profiling", True, t("2026-05-01 10:00")),  # a tie: the withdrawal wins
            ("c03", "profiling", False, t("2026-05-01 10:00")),
            ("c08", "email", True, t("2026-06-01 11:59")),
        ]
    )
    df = pd.DataFrame(rows, columns=["customer_id", "channel", "granted", "consent_time"])
    df["_key"] = df["customer_id"] + "|" + df["channel"] + "|" + df["consent_time"].astype(str)
    return df


def _deals(*, after: bool = False) -> pd.DataFrame:
    d = date.fromisoformat
    rows = (
        [("d9", "c09", d("2026-06-05"), d("2026-06-10"), "won")]
        if after
        else [
            ("d1", "c09", d("2025-01-01"), d("2025-08-01"), "won"),
            ("d2", "c09", d("2025-02-01"), d("2025-03-01"), "won"),  # closed over a year ago
            ("d3", "c09", d("2025-03-01"), d("2026-01-01"), "lost"),
            ("d4", "c09", d("2026-05-01"), d("2026-07-01"), "won"),  # won after as-of
            ("d5", "c09", d("2026-05-20"), None, "open"),
            ("d6", "c11", d("2024-01-01"), None, "won"),  # no closed date: not counted
        ]
    )
    df = pd.DataFrame(
        rows, columns=["deal_id", "customer_id", "created_date", "closed_date", "stage"]
    )
    df["_key"] = df["deal_id"]
    return df


def _frames(seed: int = 7) -> dict[str, pd.DataFrame]:
    rng = random.Random(seed)
    return {
        "customers": _customers(),
        "transactions": _transactions(rng),
        "events": _events(rng),
        "subscriptions": _subscriptions(),
        "survey_responses": _surveys(),
        "consents": _consents(),
        "deals": _deals(),
    }


def _later_frames(seed: int = 8) -> dict[str, pd.DataFrame]:
    rng = random.Random(seed)
    return {
        "transactions": _transactions(rng, after=True),
        "events": _events(rng, after=True),
        "subscriptions": _subscriptions(after=True),
        "survey_responses": _surveys(after=True),
        "consents": _consents(after=True),
        "deals": _deals(after=True),
    }


def _arrow(name: str, df: pd.DataFrame) -> pa.Table:
    """The frame typed like the data model (extra columns as pandas infers them)."""
    schema = ENTITIES[name].arrow_schema
    fields = []
    for col in df.columns:
        if col in schema.names:
            fields.append(pa.field(col, schema.field(col).type))
        elif col == "_loaded_at":
            fields.append(pa.field(col, pa.timestamp("us")))
        elif col == "_row" or col == "q1":
            fields.append(pa.field(col, pa.int64()))
        else:
            fields.append(pa.field(col, pa.string()))
    data = {c: [None if _isna(v) else v for v in df[c].tolist()] for c in df.columns}
    return pa.table(data, schema=pa.schema(fields))


def _isna(v: Any) -> bool:
    return v is None or v is pd.NaT or (isinstance(v, float) and math.isnan(v)) or v is pd.NA


def _identities() -> pa.Table:
    ids = sorted(PERSONS)
    sizes = {p: list(PERSONS.values()).count(p) for p in set(PERSONS.values())}
    return pa.table(
        {
            "customer_id": ids,
            "person_id": [PERSONS[c] for c in ids],
            "n_customer_ids": [sizes[PERSONS[c]] for c in ids],
            "linked_by": ["email" if sizes[PERSONS[c]] > 1 else "" for c in ids],
        }
    )


def _write(engine: Engine, frames: dict[str, pd.DataFrame]) -> None:
    for name, df in frames.items():
        engine.write(name, _arrow(name, df))
    engine.write("identities", _identities())


@pytest.fixture
def frames() -> dict[str, pd.DataFrame]:
    return _frames()


@pytest.fixture
def engine(frames: dict[str, pd.DataFrame]) -> Iterator[Engine]:
    eng = connect("duckdb:///:memory:")
    _write(eng, frames)
    try:
        yield eng
    finally:
        eng.close()


# -- the same traits in pandas -----------------------------------------------------------


def _person(cid: str) -> str:
    return PERSONS.get(cid, cid)


def _acts(df: pd.DataFrame, time: str, as_of: datetime) -> pd.DataFrame:
    out = df.copy()
    out["person"] = out["customer_id"].map(_person)
    out["_time"] = pd.to_datetime(out[time])
    return out[out["_time"] < as_of]


def _days(earlier: Any, as_of: datetime) -> int | None:
    if _isna(earlier):
        return None
    return (as_of.date() - pd.Timestamp(earlier).date()).days


def _top(rows: pd.DataFrame, key: str, *, spend: bool) -> tuple[Any, float | None]:
    rows = rows[rows[key].notna()]
    if rows.empty:
        return None, None
    if spend:
        g = rows.groupby(key).agg(n=("order_id", "nunique"), spend=("amount", "sum"))
        g = g.reset_index().sort_values(["n", "spend", key], ascending=[False, False, True])
        return g.iloc[0][key], float(g.iloc[0]["spend"])
    g = rows.groupby(key).size().rename("n").reset_index()
    g = g.sort_values(["n", key], ascending=[False, True])
    return g.iloc[0][key], None


def _merged_attributes(customers: pd.DataFrame) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    df = customers.copy()
    df["person"] = df["customer_id"].map(_person)
    df["canonical"] = df["customer_id"] == df["person"]
    for person, recs in df.groupby("person"):
        recs = recs.sort_values(
            ["canonical", "_loaded_at", "customer_id", "_source", "_row"],
            ascending=[False, False, True, True, True],
        )
        row: dict[str, Any] = {}
        for col in [c for c in customers.columns if not c.startswith("_") and c != "customer_id"]:
            values = [v for v in recs[col] if not _isna(v)]
            row[col] = values[0] if values else None
        signups = [v for v in recs["signup_date"] if not _isna(v)]
        row["_first_signup"] = min(signups) if signups else None
        out[str(person)] = row
    return out


def expected_base(
    frames: dict[str, pd.DataFrame], as_of: datetime, windows: list[str]
) -> dict[str, dict[str, Any]]:
    """Every built-in trait of every person, computed row by row in pandas."""
    attrs = _merged_attributes(frames["customers"])
    tx = _acts(frames["transactions"], "order_date", as_of)
    ev = _acts(frames["events"], "event_time", as_of)
    subs = _acts(frames["subscriptions"], "start_date", as_of)
    surveys = _acts(frames["survey_responses"], "response_date", as_of)
    consents = _acts(frames["consents"], "consent_time", as_of)
    deals = _acts(frames["deals"], "created_date", as_of)
    days = {w: timedelta(days=int(w[:-1]) * (7 if w.endswith("w") else 1)) for w in windows}
    out: dict[str, dict[str, Any]] = {}
    for person, a in attrs.items():
        r: dict[str, Any] = {}
        mine = tx[tx["person"] == person]
        n = mine["order_id"].nunique()
        first = mine["_time"].min() if n else None
        last = mine["_time"].max() if n else None
        signup, born = a["signup_date"], a["birth_date"]
        exists = a["_first_signup"] is None or a["_first_signup"] < as_of.date() or n > 0
        if not exists:
            continue
        monetary = float(mine["amount"].sum())
        r["recency_days"] = _days(last, as_of)
        r["frequency"] = n
        r["monetary"] = monetary
        r["avg_order_value"] = monetary / n if n else None
        r["first_purchase"] = first
        r["last_purchase"] = last
        start = (
            signup if signup is not None and datetime(*signup.timetuple()[:3]) < as_of else first
        )
        r["tenure_days"] = _days(start, as_of)
        r["mean_interpurchase_days"] = (
            (last.date() - first.date()).days / (n - 1)
            if first is not None and last is not None and n >= 2
            else None
        )
        for w in windows:
            recent = mine[mine["_time"] >= as_of - days[w]]
            r[f"orders_{w}"] = recent["order_id"].nunique()
            r[f"spend_{w}"] = float(recent["amount"].sum())
        r["distinct_categories"] = mine["category"].dropna().nunique()
        r["top_category"], top_spend = _top(mine, "category", spend=True)
        r["spend_share_top_category"] = (
            top_spend / monetary if top_spend is not None and monetary != 0 else None
        )
        r["top_channel"], _ = _top(mine, "channel", spend=True)
        r["distinct_channels"] = mine["channel"].dropna().nunique()
        e = ev[ev["person"] == person]
        names = {
            "email_sends": "email_send",
            "email_opens": "email_open",
            "email_clicks": "email_click",
            "web_visits": "web_visit",
            "service_tickets": "service_ticket",
        }
        for w in windows:
            recent = e[e["_time"] >= as_of - days[w]]
            for name, kind in names.items():
                r[f"{name}_{w}"] = int((recent["event_type"] == kind).sum())
        quarter = e[e["_time"] >= as_of - timedelta(days=90)]
        sends = int((quarter["event_type"] == "email_send").sum())
        opens = int((quarter["event_type"] == "email_open").sum())
        r["open_rate_90d"] = opens / sends if sends else None
        r["top_device"], _ = _top(e, "device", spend=False)
        r["top_source"], _ = _top(e, "source", spend=False)
        s = surveys[(surveys["person"] == person) & surveys["nps"].notna()]
        s = s.sort_values(["_time", "_key"], ascending=False)
        r["nps_last"] = int(s.iloc[0]["nps"]) if len(s) else None
        sub = subs[subs["person"] == person]
        active = sub[sub["end_date"].isna() | (pd.to_datetime(sub["end_date"]) > as_of)]
        r["subscription_active"] = len(active) > 0
        r["subscription_monthly_amount"] = float(active["monthly_amount"].sum())
        c = consents[consents["person"] == person]
        for channel in ("email", "sms", "profiling"):
            cc = c[c["channel"] == channel].sort_values(
                ["_time", "granted", "_key"], ascending=[False, True, False]
            )
            r[f"consent_{channel}"] = bool(cc.iloc[0]["granted"]) if len(cc) else None
        if born is None or datetime(*born.timetuple()[:3]) >= as_of:
            r["age"] = None
        else:
            r["age"] = as_of.year - born.year - ((born.month, born.day) > (as_of.month, as_of.day))
        dl = deals[deals["person"] == person]
        closed = pd.to_datetime(dl["closed_date"])
        in_year = closed.notna() & (closed >= as_of - timedelta(days=365)) & (closed < as_of)
        r["deals_won_365d"] = int((in_year & (dl["stage"] == "won")).sum())
        r["deals_lost_365d"] = int((in_year & (dl["stage"] == "lost")).sum())
        r["last_deal_days"] = _days(dl["_time"].max(), as_of) if len(dl) else None
        out[person] = {**{k: v for k, v in a.items() if not k.startswith("_")}, **r}
    return out


def _same(got: Any, want: Any) -> bool:
    if _isna(got) or _isna(want):
        return _isna(got) and _isna(want)
    if isinstance(want, float) or isinstance(got, float):
        return math.isclose(float(got), float(want), rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(want, datetime | pd.Timestamp):
        return pd.Timestamp(got) == pd.Timestamp(want)
    return bool(got == want)


def _rows(table: ibis.Table) -> dict[str, dict[str, Any]]:
    return {r["customer_id"]: r for r in table.to_pyarrow().to_pylist()}


def _assert_matches(got: dict[str, dict[str, Any]], want: dict[str, dict[str, Any]]) -> None:
    assert set(got) == set(want)
    wrong = [
        (person, name, got[person][name], value)
        for person, row in want.items()
        for name, value in row.items()
        if not _same(got[person][name], value)
    ]
    assert not wrong, wrong[:10]


# -- tests -------------------------------------------------------------------------------


def test_every_builtin_trait_matches_pandas(
    engine: Engine, frames: dict[str, pd.DataFrame]
) -> None:
    got = _rows(customer_base(engine, TraitsConfig(), AS_OF))
    want = expected_base(frames, AS_OF, ["30d", "90d", "365d"])

    _assert_matches(got, want)
    names = builtin_trait_names(["30d", "90d", "365d"])
    assert all(set(names) <= set(row) for row in want.values())


def test_one_line_per_order_counts_orders_without_distinct(
    frames: dict[str, pd.DataFrame],
) -> None:
    tx = frames["transactions"]
    single = {**frames, "transactions": tx[tx["line_no"] == 1].reset_index(drop=True)}
    eng = connect("duckdb:///:memory:")
    try:
        _write(eng, single)
        assert one_line_per_order(eng)
        got = _rows(customer_base(eng, TraitsConfig(), AS_OF))
        _assert_matches(got, expected_base(single, AS_OF, ["30d", "90d", "365d"]))
    finally:
        eng.close()


def test_order_lines_are_detected(engine: Engine, frames: dict[str, pd.DataFrame]) -> None:
    assert (frames["transactions"]["line_no"] > 1).any()
    assert not one_line_per_order(engine)


@pytest.mark.parametrize("windows", [["2w"], ["7d", "180d"], []])
def test_configured_windows(
    engine: Engine, frames: dict[str, pd.DataFrame], windows: list[str]
) -> None:
    base = customer_base(engine, TraitsConfig(windows=windows), AS_OF)

    assert [c for c in base.columns if c.startswith("orders_")] == [f"orders_{w}" for w in windows]
    _assert_matches(_rows(base), expected_base(frames, AS_OF, windows))


def test_hand_checked_values(engine: Engine) -> None:
    got = _rows(customer_base(engine, TraitsConfig(), AS_OF))

    # persons, not customer ids; c05 signs up later; the order-only id "zz" is no customer
    assert sorted(got) == ["c01", "c02", "c03", "c04", "c06", "c07", "c08", "c09", "c10",
                           "c11", "c14"]  # fmt: skip
    assert (got["c07"]["top_category"], got["c07"]["top_channel"]) == ("Bolig", "webshop")
    assert (got["c07"]["frequency"], got["c07"]["distinct_categories"]) == (6, 2)
    assert got["c07"]["spend_share_top_category"] == pytest.approx(150 / 335)
    assert got["c10"]["top_device"] == "desktop"
    assert got["c01"]["age"] == 46  # the birthday is on the as-of date
    assert got["c03"]["age"] == 26  # born 29 February 2000
    assert got["c06"]["age"] == 35  # turns 36 the day after
    assert got["c07"]["age"] is None  # not yet born
    assert got["c04"]["tenure_days"] is None
    assert got["c04"]["frequency"] == 0
    assert got["c06"]["tenure_days"] == (AS_OF.date() - date(2025, 3, 3)).days
    assert got["c10"]["tenure_days"] == 0  # signed up at midnight of the as-of day
    assert got["c01"]["subscription_active"]
    assert got["c01"]["subscription_monthly_amount"] == 99
    assert got["c02"]["subscription_active"]  # via c12's subscription
    assert got["c02"]["subscription_monthly_amount"] == 20
    assert got["c08"]["subscription_active"]
    assert not got["c09"]["subscription_active"]
    assert got["c08"]["nps_last"] == 8
    assert got["c02"]["nps_last"] == 7
    assert (got["c01"]["consent_email"], got["c01"]["consent_sms"]) == (True, False)
    assert got["c01"]["consent_profiling"] is None
    assert got["c02"]["consent_sms"] is False  # c12's withdrawal is later
    assert got["c03"]["consent_profiling"] is False
    assert got["c08"]["consent_email"] is True
    assert (got["c09"]["deals_won_365d"], got["c09"]["deals_lost_365d"]) == (1, 1)
    assert got["c09"]["last_deal_days"] == 12
    assert got["c11"]["deals_won_365d"] == 0
    assert got["c04"]["last_deal_days"] is None
    assert got["c04"]["deals_won_365d"] == 0


def test_attributes_merge_across_records(engine: Engine) -> None:
    got = _rows(customer_base(engine, TraitsConfig(), AS_OF))

    bo = got["c02"]
    assert (bo["first_name"], bo["city"], bo["country"]) == ("Bo", "Aarhus", "DK")  # canonical
    assert (bo["email"], bo["phone"]) == ("bo@x.dk", "+4520000002")  # only c12 has them
    assert bo["signup_date"] == date(2022, 5, 1)
    cia = got["c03"]
    assert cia["first_name"] == "Cia"
    assert cia["gender"] == "male"  # the newer of c03's two records
    assert cia["phone"] == "+4520000003"  # c03 (canonical) beats the newer c13
    assert cia["city"] == "Bergen"
    assert cia["email"] == "cia@x.dk"  # only c13 has one
    assert cia["employees"] is None  # a field the store lacks is null
    assert got["c14"]["first_name"] == "Lis"  # not in identities: its own person


def test_nothing_after_as_of_changes_anything(
    engine: Engine, frames: dict[str, pd.DataFrame]
) -> None:
    config = parse_traits_config(DECLARED)
    before = customer_base(engine, config, AS_OF).to_pandas()
    for name, later in _later_frames().items():
        _write_more(engine, name, frames[name], later)
    more = frames["customers"].iloc[:1].copy()
    more["customer_id"], more["_key"], more["signup_date"] = "c99", "crm|c99", date(2026, 7, 1)
    _write_more(engine, "customers", frames["customers"], more)

    after = customer_base(engine, config, AS_OF).to_pandas()

    assert engine.count("transactions") > len(frames["transactions"])
    sort = ["customer_id"]
    pd.testing.assert_frame_equal(
        before.sort_values(sort).reset_index(drop=True),
        after.sort_values(sort).reset_index(drop=True),
    )
    # and a later as-of sees the new data
    now = _rows(customer_base(engine, config, AS_OF))
    later_rows = _rows(customer_base(engine, config, AS_OF + timedelta(days=300)))
    assert later_rows["c01"]["frequency"] > now["c01"]["frequency"]


def _write_more(engine: Engine, name: str, base: pd.DataFrame, more: pd.DataFrame) -> None:
    engine.write(name, _arrow(name, pd.concat([base, more], ignore_index=True)))


DECLARED: list[dict[str, Any]] = [
    {"name": "sko_spend_90d", "from": "transactions", "aggregate": "sum", "of": "amount",
     "where": [{"field": "category", "value": "Sko"}], "within": "90d"},
    {"name": "opens_q", "from": "events", "aggregate": "count",
     "where": [{"field": "event_type", "value": "email_open"}], "between": ["90d", "30d"]},
    {"name": "last_web", "from": "events", "aggregate": "days_since_last",
     "where": [{"field": "event_type", "op": "starts_with", "value": "web"}]},
    {"name": "best_q1", "from": "survey_responses", "aggregate": "max", "of": "q1"},
    {"name": "sms_yes", "from": "consents", "aggregate": "count",
     "where": [{"field": "granted", "value": True}], "since": "2025-01-01"},
    {"name": "deal_products", "from": "deals", "aggregate": "count_distinct", "of": "stage"},
    {"name": "sub_first", "from": "subscriptions", "aggregate": "first_time"},
    {"name": "contacted", "from": "campaign_contacts", "aggregate": "count"},
    {"name": "best_response", "from": "campaign_contacts", "aggregate": "max",
     "of": "response_value"},
    {"name": "sko_share", "from": "transactions", "aggregate": "share", "of": "amount",
     "where": [{"field": "category", "op": "in", "value": ["Sko", "Sport"]}]},
]  # fmt: skip


def test_activity_maps_persons_and_cuts_at_as_of(
    engine: Engine, frames: dict[str, pd.DataFrame]
) -> None:
    t = activity(engine, "transactions", AS_OF)
    assert t is not None
    got = t.to_pandas()

    tx = frames["transactions"]
    want = tx[tx["order_date"] < AS_OF]
    assert len(got) == len(want)
    assert set(got["customer_id"]) == {_person(c) for c in want["customer_id"]}
    assert (got["_time"] < AS_OF).all()
    assert "edge" not in set(got["order_id"])
    assert len(activity(engine, "transactions", None).to_pandas()) == len(tx)  # type: ignore[union-attr]
    assert activity(engine, "campaign_contacts", AS_OF) is None
    with pytest.raises(UnknownTableError, match="not an activity table"):
        activity(engine, "orders", AS_OF)
    persons = {
        r["customer_id"]: r["person_id"] for r in person_map(engine).to_pyarrow().to_pylist()
    }
    assert persons == PERSONS


def test_person_map_without_identities() -> None:
    with connect("duckdb:///:memory:") as eng:
        eng.write("customers", _arrow("customers", _customers()))
        got = {r["customer_id"]: r["person_id"] for r in person_map(eng).to_pyarrow().to_pylist()}
        assert got == {c: c for c in _customers()["customer_id"]}
        base = _rows(customer_base(eng, TraitsConfig(), AS_OF))
        assert "c12" in base
        assert base["c12"]["frequency"] == 0
        assert base["c02"]["subscription_active"] is False


def test_store_without_customers_has_an_empty_base() -> None:
    with connect("duckdb:///:memory:") as eng:
        eng.write("transactions", _arrow("transactions", _transactions(random.Random(1))))
        base = customer_base(eng, parse_traits_config(DECLARED), AS_OF)
        assert base.count().execute() == 0
        assert base.columns[:2] == ("customer_id", "customer_type")


def test_category_spend_and_survey_answers(engine: Engine, frames: dict[str, pd.DataFrame]) -> None:
    got = category_spend(engine, AS_OF).to_pandas()
    tx = _acts(frames["transactions"], "order_date", AS_OF)
    totals = tx.groupby("person")["amount"].sum()
    want = tx[tx["category"].notna()].groupby(["person", "category"])["amount"].sum()
    assert len(got) == len(want)
    for row in got.itertuples():
        assert row.spend == pytest.approx(want[(row.customer_id, row.category)])
        total = totals[row.customer_id]
        assert _same(row.share, row.spend / total if total else None)

    survey = survey_answers(engine, AS_OF)
    assert survey is not None
    answers = _rows(survey)
    assert answers["c02"]["response_id"] == "r4"  # the latest response, with or without nps
    assert answers["c08"]["response_id"] == "r6"
    assert answers["c01"]["q1"] == 5
    assert "_key" not in answers["c01"]


def test_compiles_for_spark(engine: Engine) -> None:
    ibis.pyspark  # noqa: B018  (loads the backend's options the compiler reads)
    config = parse_traits_config(DECLARED)
    sql = ibis.to_sql(customer_base(engine, config, AS_OF), dialect="pyspark")

    assert "MIN_BY" in sql  # attribute merge
    for forbidden in ("MODE(", "FIRST(", "APPROX", "PERCENTILE"):
        assert forbidden not in sql.upper()
    for name in (*builtin_trait_names(["30d"]), *(d["name"] for d in DECLARED)):
        assert f"`{name}`" in sql


def test_declared_traits_join_the_base(engine: Engine, frames: dict[str, pd.DataFrame]) -> None:
    got = _rows(customer_base(engine, parse_traits_config(DECLARED), AS_OF))

    assert got["c09"]["deal_products"] == 3
    assert got["c04"]["deal_products"] == 0
    assert got["c04"]["sub_first"] is None
    assert got["c08"]["best_q1"] == 2
    assert got["c02"]["sms_yes"] == 1  # c02's grant; c12's record is a withdrawal
    assert got["c01"]["sub_first"] == datetime(2024, 1, 1)
    # campaign_contacts is not loaded: its traits are empty, not an error
    assert {(r["contacted"], r["best_response"]) for r in got.values()} == {(0, None)}
    assert list(got["c01"])[-len(DECLARED) :] == [d["name"] for d in DECLARED]


def test_declared_trait_errors_name_the_path(engine: Engine) -> None:
    bad = [*DECLARED, {"name": "x", "from": "transactions", "aggregate": "sum", "of": "amout"}]
    where = rf"traits\[{len(DECLARED)}\]\.of"
    with pytest.raises(ConfigError, match=rf"{where}: .*'amout'; did you mean 'amount'"):
        customer_base(engine, parse_traits_config(bad), AS_OF)
    bad = [{"name": "x", "from": "transactions", "aggregate": "avg", "of": "category"}]
    with pytest.raises(ConfigError, match=r"traits\[0\]\.of: avg needs a numeric column"):
        customer_base(engine, parse_traits_config(bad), AS_OF)
    bad = [{"name": "x", "from": "events", "aggregate": "count",
            "where": [{"field": "event_time", "op": ">", "value": "soon"}]}]  # fmt: skip
    with pytest.raises(ConfigError, match=r"traits\[0\]\.where\[0\]\.value: 'soon' is not a date"):
        customer_base(engine, parse_traits_config(bad), AS_OF)


def test_catalog_lists_every_column(engine: Engine) -> None:
    config = parse_traits_config(DECLARED)
    catalog = trait_catalog(config)
    base = customer_base(engine, config, AS_OF)

    assert list(catalog) == list(base.columns[1:])
    assert catalog["frequency"].type == "integer"
    assert catalog["frequency"].kind == "builtin"
    assert catalog["orders_90d"].description == "Orders in the window 90d"
    assert catalog["email"].kind == "attribute"
    assert (catalog["best_q1"].type, catalog["sub_first"].type) == ("number", "date")
    assert catalog["deal_products"].source == "deals"
    kinds = {
        "integer": "int",
        "number": "float",
        "string": "string",
        "date": "timestamp",
        "boolean": "boolean",
    }
    for name, dtype in base.schema().items():
        info = catalog.get(name)
        if info is not None and info.kind == "builtin":
            assert str(dtype).startswith(kinds[info.type]), (name, dtype)
    assert len({t.name for t in BUILTIN_TRAITS}) == len(BUILTIN_TRAITS)


def test_only_computes_the_passes_of_the_named_traits(engine: Engine) -> None:
    full = _rows(customer_base(engine, TraitsConfig(), AS_OF))
    some = _rows(
        customer_base(
            engine,
            TraitsConfig(),
            AS_OF,
            only={"top_device", "spend_share_top_category", "tenure_days", "age"},
        )
    )

    assert sorted(some) == sorted(full)  # existence comes from the purchase aggregate
    for cid, row in some.items():
        for name in ("top_device", "spend_share_top_category", "monetary", "frequency",
                     "tenure_days", "age"):  # fmt: skip
            assert row[name] == full[cid][name], (cid, name)
        assert row["top_channel"] is None  # its pass was skipped
        assert row["email_opens_30d"] == 0
        assert row["nps_last"] is None
        assert row["email"] is None  # an attribute no named trait needs
    assert any(r["top_channel"] is not None for r in full.values())
    assert any(r["email"] is not None for r in full.values())
    assert any(r["tenure_days"] is not None for r in full.values())
    assert any(r["email_opens_30d"] for r in full.values())
    assert any(r["nps_last"] is not None for r in full.values())


def test_a_restricted_base_keeps_only_the_columns_its_passes_read(
    engine: Engine, frames: dict[str, pd.DataFrame]
) -> None:
    """What an incremental run does for the persons it recomputes: their rows once, in
    narrow work tables, and the same traits as the full computation."""
    from segmint.traits._base import complete_base, raw_base

    config = parse_traits_config(DECLARED)
    kept: list[ibis.Table] = []

    def keep(expr: ibis.Table) -> ibis.Table:
        name = engine.temp_name("restricted")
        engine.write(name, expr, temp=True)
        kept.append(engine.table(name))
        return kept[-1]

    records = ibis.memtable({"customer_id": ["c02", "c12", "c09"]})  # persons c02 and c09
    raw = raw_base(engine, config, AS_OF, restrict=records, keep=keep)
    got = _rows(complete_base(raw, config, AS_OF))
    full = _rows(customer_base(engine, config, AS_OF))
    assert set(got) == {"c02", "c09"}
    for person, row in got.items():
        assert {k: v for k, v in row.items() if not _same(v, full[person][k])} == {}, person
    columns = {frozenset(t.columns) for t in kept}
    # transactions: the built-in passes and the declared ones (category in their filters)
    assert frozenset({"customer_id", "order_id", "_time", "amount", "category", "channel"}) in (
        columns
    )
    # events: event_type, device, source and the time; not url, channel or campaign_id
    assert frozenset({"customer_id", "_time", "event_type", "device", "source"}) in columns
    assert all("product_name" not in c and "url" not in c for c in columns)


def test_an_evaluation_reads_the_identity_map_once(engine: Engine) -> None:
    from segmint.traits._activity import merged_ids, pinned_identities

    made: list[str] = []

    def keep(expr: ibis.Table) -> ibis.Table:
        name = engine.temp_name("ids")
        engine.write(name, expr, temp=True)
        made.append(name)
        return engine.table(name)

    unpinned = merged_ids(engine).to_pyarrow().sort_by("customer_id")
    before = activity(engine, "transactions", AS_OF).to_pyarrow().sort_by("_key")  # type: ignore[union-attr]
    with pinned_identities(engine, keep):
        with pinned_identities(engine, keep):  # nested: the outer table stays
            assert len(made) == 1
        pinned = merged_ids(engine)
        assert pinned.get_name() == made[0]
        assert pinned.to_pyarrow().sort_by("customer_id").equals(unpinned)
        during = activity(engine, "transactions", AS_OF).to_pyarrow().sort_by("_key")  # type: ignore[union-attr]
        # identities change meanwhile: the evaluation keeps the map it started with
        engine.write("identities", engine.table("identities").mutate(person_id=ibis.literal("x")))
        assert merged_ids(engine).to_pyarrow().sort_by("customer_id").equals(unpinned)
    assert during.equals(before)
    assert merged_ids(engine).count().execute() == engine.count("identities")  # unpinned again
