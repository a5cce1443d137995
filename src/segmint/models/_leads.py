"""Lead score (B2B): the probability that a deal with a company is won.

Fitted on the won and lost deals closed before the evaluation time, from what was known
when each deal was created: the company's firmographics (NACE code, size band by
employees, country, revenue) and its engagement in the 90 days before (email opens and
clicks, web visits).  Engagement is counted in the engine per deal, from events strictly
before the deal's ``created_date``, so an outcome never leaks into its own features.
Companies are then scored with the same features as of the evaluation time.

The model is a logistic regression on one-hot firmographics and standardised engagement
(scikit-learn): win odds multiply with each factor, which is how sales teams read an
ideal customer profile, and its probabilities are calibrated by construction.  It is
checked on the latest fifth of the deals (time split) with AUC against the deals'
outcomes.

When deals name the contact they were opened with (``deals.contact_id``) and the project
has a ``contacts`` table, the contact's role is a feature too: the title as written (one-hot,
frequent titles only) and its level (``executive``, ``manager``, ``staff``) read from
Nordic and English keywords, so rare spellings still count.  Every contact is then scored
(the chance a deal opened with them is won) and the account-level score is rolled up from
its contacts: ``lead_score`` is the mean of its contacts' scores, the chance that a deal
with the company is won whoever opens it (deals are opened by any of its contacts), and
``lead_best_contact`` / ``lead_best_contact_score`` name whom to call.  A company without
contacts is scored with its role unknown.  The title levels are hand-written because no
maintained library classifies Nordic job titles.

With fewer than ``min_outcomes`` closed deals (or only one kind of outcome) there is
nothing to learn from: the score is then the ideal customer profile (ICP) the project
states, as rules in the segment language with weights; a company's score is the weighted
share of the rules it meets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import ibis
import numpy as np
import pyarrow as pa

from segmint.models._card import ClassifierCard

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pandas as pd

    from segmint.engine import Engine

#: employee counts -> EU size band
SIZE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("0-9", 0, 9),
    ("10-49", 10, 49),
    ("50-249", 50, 249),
    ("250+", 250, None),
)
CATEGORICAL = ("nace_code", "size_band", "country")
CONTACT_CATEGORICAL = ("title", "title_level")
#: the account-level traits a run adds (the roll-up of the contacts' scores)
LEAD_SCORES = ("lead_score", "lead_best_contact", "lead_best_contact_score")
#: title level by keywords, first match wins: executive before manager ("daglig leder")
TITLE_LEVELS: tuple[tuple[str, str], ...] = (
    (
        "executive",
        r"\b(?:ceo|cfo|coo|cto|vd|adm\.? ?dir\w*|direkt[øo]r|verkst[äa]llande|daglig leder|"
        r"toimitusjohtaja|managing director|owner|ejer|[äa]gare|eier|founder|partner)\b",
    ),
    ("manager", r"(?:chef|sjef|p[äa][äa]llikk[öo]|leder|ledare|manager|head of|johtaja)"),
)
ENGAGEMENT = {"email_opens": "email_open", "email_clicks": "email_click", "web_visits": "web_visit"}
NUMERIC = ("log_revenue", *ENGAGEMENT)
ENGAGEMENT_DAYS = 90
SCORE_SCHEMA = pa.schema(
    [("customer_id", pa.string()), ("lead_score", pa.float64()), ("lead_method", pa.string())]
)


@dataclass
class LeadScores:
    """Scores per company and how they were made."""

    scores: pa.Table  # customer_id, lead_score (0-1), lead_method ("model" or "icp")
    method: str
    card: ClassifierCard
    #: per contact (model with contacts only): contact_id, customer_id, title, lead_score
    contacts: pa.Table | None = field(default=None)


def title_level(titles: pd.Series) -> pd.Series:
    """``executive``, ``manager`` or ``staff`` per job title (null stays null)."""
    import pandas as pd

    text = titles.astype("string").str.lower().str.strip()
    level = pd.Series("staff", index=titles.index, dtype=object)
    found = pd.Series(False, index=titles.index)
    for name, pattern in TITLE_LEVELS:
        hit = text.str.contains(pattern, regex=True).fillna(False).astype(bool) & ~found
        level[hit] = name
        found |= hit
    return level.where(text.notna(), None)


def _with_contacts(engine: Engine) -> bool:
    return (
        engine.has_table("deals")
        and engine.has_table("contacts")
        and "contact_id" in engine.table("deals").columns
    )


def _size_band(employees: ir.IntegerValue) -> ir.StringValue:
    cases = [
        (employees <= hi if hi is not None else employees >= lo, name)
        for name, lo, hi in SIZE_BANDS
    ]
    return ibis.cases(*cases, else_=ibis.null("string"))


def firmographics(engine: Engine) -> ir.Table:
    """``customer_id`` (the person id) and the firmographic features of each company."""
    from segmint.traits._attributes import customer_attributes

    a = customer_attributes(engine)
    a = a.filter(a.nace_code.notnull() | a.employees.notnull())
    return a.select(
        customer_id=a.customer_id,
        nace_code=a.nace_code.cast("string"),
        size_band=_size_band(a.employees.cast("int64")),
        country=a.country.cast("string"),
        log_revenue=ibis.ifelse(
            a.revenue.cast("float64") > 0, a.revenue.cast("float64").log10(), ibis.null("float64")
        ),
    )


def _engagement(engine: Engine, keys: ir.Table, as_of: datetime) -> ir.Table:
    """Events of each ``(key, customer_id, _moment)`` row in the 90 days before its moment."""
    from segmint.traits._activity import activity

    events = activity(engine, "events", as_of)
    if events is None:
        return keys.mutate(**{name: ibis.literal(0, "int64") for name in ENGAGEMENT})
    ev = events.select(_eid=events.customer_id, _et=events._time, _type=events.event_type)
    joined = keys.left_join(
        ev,
        [
            keys.customer_id == ev._eid,
            ev._et < keys._moment,
            ev._et >= keys._moment - ibis.interval(days=ENGAGEMENT_DAYS),
        ],
    )
    counts = joined.group_by("_key").agg(
        **{name: (joined._type == kind).sum() for name, kind in ENGAGEMENT.items()}
    )
    out = keys.left_join(counts, keys._key == counts._key).select(
        *keys.columns, *(counts[n].fill_null(0).cast("int64").name(n) for n in ENGAGEMENT)
    )
    return out


def deal_examples(engine: Engine, as_of: datetime) -> pd.DataFrame:
    """One row per deal won or lost before ``as_of``: features when created, and ``won``."""
    from segmint.traits._activity import activity

    deals = activity(engine, "deals", as_of)
    if deals is None:
        return _empty_examples()
    closed = deals.closed_date.cast("timestamp")
    done = deals.filter(
        closed.notnull() & (closed < ibis.literal(as_of)) & deals.stage.isin(["won", "lost"])
    )
    cols = {
        "_key": done.deal_id.cast("string"),
        "customer_id": done.customer_id,
        "_moment": done._time,
        "closed": done.closed_date.cast("timestamp"),
        "won": (done.stage == "won").cast("int8"),
    }
    if _with_contacts(engine):
        cols["contact_id"] = done.contact_id.cast("string")
    keys = done.select(**cols)
    rows = _engagement(engine, keys, as_of)
    firms = firmographics(engine)
    table = rows.inner_join(firms, "customer_id")
    if _with_contacts(engine):
        table = _titles(engine, table)
    df = table.order_by(["closed", "_key"]).to_pandas()
    return _with_level(df)


def _titles(engine: Engine, rows: ir.Table) -> ir.Table:
    """``rows`` (with ``contact_id``) plus the contact's ``title``."""
    c = engine.table("contacts")
    people = c.select(_cid=c.contact_id.cast("string"), title=c.title.cast("string"))
    joined = rows.left_join(people, rows.contact_id == people._cid)
    return joined.select(*rows.columns, "title")


def _with_level(df: pd.DataFrame) -> pd.DataFrame:
    if "title" in df.columns:
        df = df.assign(title=df["title"].astype("string").str.strip().str.lower())
        df["title_level"] = title_level(df["title"])
    return df


def _empty_examples() -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(columns=["_key", "customer_id", "won", *CATEGORICAL, *NUMERIC])


def company_features(engine: Engine, as_of: datetime) -> pd.DataFrame:
    """The same features for every company, as of ``as_of``: one row per company, or, with
    contacts, one row per contact (and one with the role unknown per company without)."""
    firms = firmographics(engine)
    keys = firms.select(
        _key=firms.customer_id, customer_id=firms.customer_id, _moment=ibis.literal(as_of)
    )
    rows = _engagement(engine, keys, as_of).drop("_moment")
    table = rows.inner_join(firms, "customer_id")
    if _with_contacts(engine):
        c = engine.table("contacts")
        people = c.select(
            _company=c.company_id.cast("string"),
            contact_id=c.contact_id.cast("string"),
            title=c.title.cast("string"),
        )
        joined = table.left_join(people, table.customer_id.cast("string") == people._company)
        table = joined.select(*table.columns, "contact_id", "title")
        return _with_level(table.order_by(["customer_id", "contact_id"]).to_pandas())
    return table.order_by("customer_id").to_pandas()


def lead_model(c: float = 10.0, categorical: tuple[str, ...] = CATEGORICAL) -> Any:
    """The scikit-learn pipeline: one-hot firmographics (and roles) + scaled numbers ->
    logistic."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    prep = ColumnTransformer(
        [
            (
                "firm",
                make_pipeline(
                    SimpleImputer(strategy="constant", fill_value="(unknown)"),
                    OneHotEncoder(handle_unknown="ignore", min_frequency=5),
                ),
                list(categorical),
            ),
            (
                "num",
                make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
                list(NUMERIC),
            ),
        ]
    )
    return make_pipeline(prep, LogisticRegression(C=c, max_iter=2000))


def _prepare(df: pd.DataFrame, categorical: tuple[str, ...] = CATEGORICAL) -> pd.DataFrame:
    out = df[list(categorical) + list(NUMERIC)].copy()
    for col in categorical:
        out[col] = out[col].astype(object).where(out[col].notna(), None)
    for col in NUMERIC:
        out[col] = out[col].astype(float)
    return out


def lead_scores(
    engine: Engine,
    as_of: datetime,
    *,
    min_outcomes: int = 200,
    icp: list[tuple[ir.Table, float]] | None = None,
) -> LeadScores:
    """Fit on past deals and score every company as of ``as_of`` (see the module docs).

    Parameters
    ----------
    engine
        The store: customers (companies), deals, events.
    as_of
        Evaluation time: deals closed before it train the model; features are as of it.
    min_outcomes
        Fewer closed deals than this (or only wins, or only losses): use ``icp``.
    icp
        The ideal customer profile as (members of a rule, weight) pairs; without it and
        without enough deals, every company gets a null score (method ``"none"``).
    """
    from sklearn.metrics import roc_auc_score

    examples = deal_examples(engine, as_of)
    rows = company_features(engine, as_of)
    companies = rows.drop_duplicates("customer_id")
    ids = pa.array(companies["customer_id"].astype(str).tolist(), pa.string())
    n = len(examples)
    enough = n >= min_outcomes and examples["won"].nunique() == 2
    if not enough:
        return _icp_scores(companies, ids, icp, n)
    cats = CATEGORICAL + (CONTACT_CATEGORICAL if "title" in examples.columns else ())
    split = math.floor(n * 0.8)
    train, test = examples.iloc[:split], examples.iloc[split:]
    model = lead_model(categorical=cats).fit(_prepare(train, cats), train["won"].astype(int))
    auc = (
        float(
            roc_auc_score(test["won"].astype(int), model.predict_proba(_prepare(test, cats))[:, 1])
        )
        if test["won"].nunique() == 2
        else None
    )
    final = lead_model(categorical=cats).fit(_prepare(examples, cats), examples["won"].astype(int))
    score = final.predict_proba(_prepare(rows, cats))[:, 1]
    contacts = None
    if "contact_id" in rows.columns:
        table, contacts = _roll_up(rows.assign(lead_score=score))
    else:
        table = pa.table(
            {
                "customer_id": ids,
                "lead_score": pa.array(score, pa.float64()),
                "lead_method": pa.array(["model"] * len(ids), pa.string()),
            },
            schema=SCORE_SCHEMA,
        )
    card = ClassifierCard(
        model="lead score (logistic regression)",
        data={
            "as_of": as_of.isoformat(),
            "deals": n,
            "won": int(examples["won"].sum()),
            "first_closed": str(examples["closed"].min()),
            "last_closed": str(examples["closed"].max()),
            "engagement_days": ENGAGEMENT_DAYS,
        },
        features=[*cats, *NUMERIC],
        parameters={
            "estimator": "LogisticRegression",
            "C": final[-1].C,
            "account_score": "mean of the contacts' scores" if contacts is not None else None,
        },
        metrics={
            "holdout": "latest 20% of deals by closing time",
            "auc": auc,
            "holdout_deals": len(test),
        },
    )
    return LeadScores(table, "model", card, contacts)


def _strings(values: pd.Series) -> pa.Array:
    return pa.array(values.astype(object).where(values.notna(), None).tolist(), pa.string())


def _roll_up(rows: pd.DataFrame) -> tuple[pa.Table, pa.Table]:
    """Account scores from contact scores: the mean, and the best contact (ties: lowest id)."""
    known = rows[rows["contact_id"].notna()]
    ranked = known.sort_values(
        ["customer_id", "lead_score", "contact_id"], ascending=[True, False, True]
    )
    best = ranked.drop_duplicates("customer_id").set_index("customer_id")
    account = rows.groupby("customer_id", sort=True)["lead_score"].mean()
    best = best.reindex(account.index)
    table = pa.table(
        {
            "customer_id": _strings(account.index.to_series()),
            "lead_score": pa.array(account.to_numpy(), pa.float64()),
            "lead_method": pa.array(["model"] * len(account), pa.string()),
            "lead_best_contact": _strings(best["contact_id"]),
            "lead_best_contact_score": pa.array(best["lead_score"], pa.float64(), from_pandas=True),
        }
    )
    contacts = pa.table(
        {
            "contact_id": _strings(known["contact_id"]),
            "customer_id": _strings(known["customer_id"]),
            "title": _strings(known["title"]),
            "lead_score": pa.array(known["lead_score"].to_numpy(), pa.float64()),
        }
    )
    return table, contacts


def _icp_scores(
    companies: pd.DataFrame,
    ids: pa.Array,
    icp: list[tuple[ir.Table, float]] | None,
    outcomes: int,
) -> LeadScores:
    card = ClassifierCard(
        model="lead score (ideal customer profile)",
        data={"deals": outcomes, "reason": "too few won and lost deals to fit a model"},
        features=[],
        parameters={"rules": len(icp or []), "weights": [w for _, w in icp or []]},
        metrics={},
    )
    if not icp:
        scores = pa.nulls(len(ids), pa.float64())
        table = pa.table(
            {"customer_id": ids, "lead_score": scores,
             "lead_method": pa.array(["none"] * len(ids), pa.string())},
            schema=SCORE_SCHEMA,
        )  # fmt: skip
        return LeadScores(table, "none", card)
    total = sum(w for _, w in icp)
    points = np.zeros(len(ids))
    position = {cid: i for i, cid in enumerate(ids.to_pylist())}
    for members, weight in icp:
        for cid in members.customer_id.to_pyarrow().to_pylist():
            if str(cid) in position:
                points[position[str(cid)]] += weight
    table = pa.table(
        {"customer_id": ids, "lead_score": pa.array(points / total, pa.float64()),
         "lead_method": pa.array(["icp"] * len(ids), pa.string())},
        schema=SCORE_SCHEMA,
    )  # fmt: skip
    return LeadScores(table, "icp", card)
