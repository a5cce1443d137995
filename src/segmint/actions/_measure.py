"""Campaign measurement: response rates and uplift per segment with confidence intervals,
the uplift model's Qini curve, and the persuadable micro segments.

Uplift of a segment is the response rate of its treated customers minus that of its
control customers.  Its interval is **Newcombe's hybrid score interval** (method 10 of
Newcombe, Statistics in Medicine 1998): Wilson score intervals of the two rates combined
by the square-and-add rule, computed with statsmodels
(``confint_proportions_2indep(method="newcomb")``).  Unlike the Wald interval it stays
within [-1, 1] and keeps its coverage for small groups and rates near 0 (a campaign's
usual case).  The p-value is the two-sided score test of equal rates, the classic pooled
two-proportion z-test (statsmodels
``test_proportions_2indep(method="score", correction=False)``).

Segments are read from the snapshot of the last run *before* the campaign's first contact
when one exists (membership not changed by the campaign itself); otherwise from the last
run, and the report says so (``segments_after_campaign``): a segment such as "bought in
the last 30 days" then partly reflects the response.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from segmint.actions._uplift import cross_fitted_uplift, qini_curve

if TYPE_CHECKING:
    from segmint.config import ProjectConfig
    from segmint.engine import Engine


@dataclass(frozen=True)
class SegmentUplift:
    """Response and uplift of one group of a campaign's customers."""

    segment: str
    treated: int
    control: int
    treated_responders: int
    control_responders: int
    treated_rate: float | None
    control_rate: float | None
    uplift: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    incremental_responders: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _nan_none(x: float) -> float | None:
    return None if x is None or math.isnan(x) else float(x)


def segment_uplift(
    segment: str, treated: Any, responded: Any, *, alpha: float = 0.05
) -> SegmentUplift:
    """Rates, uplift, its Newcombe interval (confidence ``1 - alpha``) and score test."""
    from statsmodels.stats.proportion import (
        confint_proportions_2indep,
        test_proportions_2indep,
    )

    t = np.asarray(treated, dtype=bool)
    y = np.asarray(responded, dtype=bool)
    n1, n0 = int(t.sum()), int((~t).sum())
    k1, k0 = int((y & t).sum()), int((y & ~t).sum())
    if n1 == 0 or n0 == 0:
        r1 = k1 / n1 if n1 else None
        r0 = k0 / n0 if n0 else None
        return SegmentUplift(segment, n1, n0, k1, k0, r1, r0, None, None, None, None, None)
    with warnings.catch_warnings():  # rates of 0 make statsmodels' unused ratios divide by 0
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = confint_proportions_2indep(
            k1, n1, k0, n0, method="newcomb", compare="diff", alpha=alpha
        )
        test = test_proportions_2indep(
            k1, n1, k0, n0, method="score", compare="diff", correction=False
        )
    diff = k1 / n1 - k0 / n0
    return SegmentUplift(
        segment, n1, n0, k1, k0, k1 / n1, k0 / n0, diff,
        _nan_none(float(low)), _nan_none(float(high)), _nan_none(float(test.pvalue)), diff * n1,
    )  # fmt: skip


def uplift_by_segment(
    contacts: pd.DataFrame, members: pd.DataFrame, *, alpha: float = 0.05
) -> list[SegmentUplift]:
    """Uplift of every segment, plus ``(all)`` for the whole campaign.

    ``contacts``: ``customer_id``, ``treated`` (bool), ``responded`` (bool); ``members``:
    ``segment``, ``customer_id``.  A customer counts in every segment they belong to.
    """
    out = [segment_uplift("(all)", contacts.treated, contacts.responded, alpha=alpha)]
    joined = contacts.merge(members, on="customer_id")
    for name, grp in joined.groupby("segment", sort=True):
        out.append(segment_uplift(str(name), grp.treated, grp.responded, alpha=alpha))
    return out


@dataclass(frozen=True)
class MicroSegment:
    """A leaf of a shallow tree on the predicted uplift: a rule and what it measured."""

    rule: str
    customers: int
    predicted_uplift: float
    measured: SegmentUplift

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "customers": self.customers,
            "predicted_uplift": self.predicted_uplift,
            "measured": self.measured.to_dict(),
        }


def micro_segments(
    features: pd.DataFrame,
    uplift: np.ndarray,
    treated: Any,
    responded: Any,
    *,
    depth: int = 3,
    min_share: float = 0.05,
    alpha: float = 0.05,
) -> list[MicroSegment]:
    """Readable persuadable groups: the leaves of a regression tree (``depth`` levels,
    leaves of at least ``min_share`` of the customers) fitted to the cross-fitted uplift,
    best first, each with its measured uplift and interval.

    Numeric features split by threshold; text features by one value (``top_category =
    Sko``), as one-hot columns of their 12 commonest values.
    """
    from sklearn.tree import DecisionTreeRegressor

    numeric = features.select_dtypes(include="number")
    text = features.drop(columns=numeric.columns)
    parts = [numeric]
    for col in text.columns:
        common = text[col].value_counts().index[:12]
        for value in common:
            parts.append(pd.DataFrame({f"{col} = {value}": (text[col] == value).astype(float)}))
    X = pd.concat(parts, axis=1)
    tree = DecisionTreeRegressor(
        max_depth=depth, min_samples_leaf=max(2, int(min_share * len(X))), random_state=0
    ).fit(X, uplift)
    leaf = tree.apply(X)
    t = np.asarray(treated, dtype=bool)
    y = np.asarray(responded, dtype=bool)
    rules = _leaf_rules(tree, list(X.columns))
    out = []
    for node in np.unique(leaf):
        sel = leaf == node
        out.append(
            MicroSegment(
                rule=rules[int(node)],
                customers=int(sel.sum()),
                predicted_uplift=float(np.mean(uplift[sel])),
                measured=segment_uplift(rules[int(node)], t[sel], y[sel], alpha=alpha),
            )
        )
    return sorted(out, key=lambda m: -m.predicted_uplift)


def _leaf_rules(tree: Any, names: list[str]) -> dict[int, str]:
    t = tree.tree_
    rules: dict[int, str] = {}

    def walk(node: int, conds: list[str]) -> None:
        if t.children_left[node] == -1:
            rules[node] = " and ".join(conds) or "everyone"
            return
        name, thr = names[t.feature[node]], t.threshold[node]
        if " = " in name:  # a one-hot text value
            left, right = name.replace(" = ", " != ", 1), name
        else:
            left, right = f"{name} <= {thr:.4g}", f"{name} > {thr:.4g}"
        # missing values go the way the tree learned (right unless missing_go_to_left)
        walk(int(t.children_left[node]), [*conds, left])
        walk(int(t.children_right[node]), [*conds, right])

    walk(0, [])
    return rules


@dataclass
class CampaignMeasurement:
    """What ``segmint campaign measure`` reports."""

    campaign_id: str
    contacts: int
    segments_run: str | None
    segments_after_campaign: bool
    by_segment: list[SegmentUplift]
    method: str = (
        "uplift = treated rate - control rate; 95 % Newcombe hybrid score interval "
        "(Wilson intervals, square-and-add); score test p-value"
    )
    qini_coefficient: float | None = None
    qini_curve: list[dict[str, float]] = field(default_factory=list)
    micro_segments: list[MicroSegment] = field(default_factory=list)
    uplift_scores: pd.DataFrame | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "campaign_id": self.campaign_id,
            "contacts": self.contacts,
            "segments_run": self.segments_run,
            "segments_after_campaign": self.segments_after_campaign,
            "method": self.method,
            "by_segment": [s.to_dict() for s in self.by_segment],
            "qini_coefficient": self.qini_coefficient,
            "qini_curve": self.qini_curve,
            "micro_segments": [m.to_dict() for m in self.micro_segments],
        }


def campaign_frame(engine: Engine, campaign_id: str) -> tuple[pd.DataFrame, datetime]:
    """The campaign's contacts by person: ``customer_id`` (person id), ``treated``,
    ``responded``; and its first contact date."""
    from segmint.exceptions import ConfigError
    from segmint.traits import person_map

    if not engine.has_table("campaign_contacts"):
        raise ConfigError("no campaign_contacts loaded: segmint load campaign_contacts FILE")
    cc = engine.table("campaign_contacts")
    cc = cc.filter(cc.campaign_id.cast("string") == campaign_id)
    df = cc.select("customer_id", "arm", "responded", "contact_date").to_pyarrow().to_pandas()
    if df.empty:
        known = engine.table("campaign_contacts").campaign_id.cast("string").to_pyarrow()
        names = sorted({str(x) for x in known.to_pylist()})[:10]
        raise ConfigError(
            f"campaign {campaign_id!r} has no contacts; campaigns with contacts: "
            + (", ".join(names) or "none")
        )
    people = person_map(engine).to_pyarrow().to_pandas()
    lookup = dict(zip(people.customer_id, people.person_id, strict=True))
    df["customer_id"] = df.customer_id.astype(str).map(lambda c: lookup.get(c, c))
    df["treated"] = df.arm == "treatment"
    df["responded"] = df.responded.fillna(False).astype(bool)
    # one row per person: a person contacted under two customer ids counts once, treated
    # if any record was, responded if any did
    out = df.groupby("customer_id", as_index=False).agg(
        treated=("treated", "max"), responded=("responded", "max")
    )
    first = pd.to_datetime(df.contact_date).min()
    start = datetime(first.year, first.month, first.day) if pd.notna(first) else datetime.now()
    return out, start


def _members_before(engine: Engine, start: datetime) -> tuple[pd.DataFrame, str | None, bool]:
    """Segment membership of the last run as of ``start`` or before (else the last run)."""
    import ibis

    from segmint.runs import RUNS, last_successful_run
    from segmint.segments import _snapshots as snapshots

    run_id, after = None, False
    if engine.has_table(RUNS):
        r = engine.table(RUNS)
        ok = r.filter((r.status == "succeeded") & (r.as_of <= ibis.literal(start)))
        stored = set(snapshots.snapshot_runs(engine))  # read once, not per run
        for rid in ok.order_by(ibis.desc("run_id")).run_id.to_pyarrow().to_pylist():
            if str(rid) in stored:
                run_id = str(rid)
                break
    if run_id is None:
        run_id, after = last_successful_run(engine), True
    members = snapshots.run_members(engine, run_id)
    if members is None:
        return pd.DataFrame({"segment": [], "customer_id": []}), None, True
    df = members.select("segment", "customer_id").to_pyarrow().to_pandas()
    df["customer_id"] = df.customer_id.astype(str)
    return df, run_id, after


def measure_campaign(
    engine: Engine,
    config: ProjectConfig,
    campaign_id: str,
    *,
    segments: list[str] | None = None,
    model: bool = True,
    folds: int = 3,
    alpha: float = 0.05,
    seed: int = 0,
) -> CampaignMeasurement:
    """Measure one campaign: uplift per segment; with ``model``, the cross-fitted
    X-learner's Qini curve, its persuadable micro segments and each customer's uplift.

    Features of the uplift model are the customer base as of the first contact (traits
    computed from data before it, so the response cannot leak into them).
    """
    from segmint.exceptions import ConfigError
    from segmint.models import trait_frame

    contacts, start = campaign_frame(engine, campaign_id)
    members, run_id, after = _members_before(engine, start)
    if segments is not None:
        unknown = sorted(set(segments) - set(members.segment))
        if unknown:
            raise ConfigError(f"no segment {', '.join(map(repr, unknown))} in run {run_id}")
        members = members[members.segment.isin(segments)]
    result = CampaignMeasurement(
        campaign_id=campaign_id,
        contacts=len(contacts),
        segments_run=run_id,
        segments_after_campaign=after,
        by_segment=uplift_by_segment(contacts, members, alpha=alpha),
    )
    if not model:
        return result
    if contacts.treated.all() or not contacts.treated.any():
        raise ConfigError(f"campaign {campaign_id!r} needs treated and control customers")
    import ibis

    population = ibis.memtable(contacts[["customer_id"]])
    X = trait_frame(engine, config.traits, start, population=population)
    data = contacts.set_index("customer_id").join(X, how="inner")
    features = data.drop(columns=["treated", "responded"])
    features = features.loc[:, features.notna().any()]
    uplift = cross_fitted_uplift(
        features, data.treated, data.responded, folds=folds, random_state=seed
    )
    curve = qini_curve(uplift, data.treated.to_numpy(), data.responded.to_numpy())
    result.qini_coefficient = curve.coefficient
    result.qini_curve = curve.at(10)
    result.micro_segments = micro_segments(
        features, uplift, data.treated, data.responded, alpha=alpha
    )
    result.uplift_scores = pd.DataFrame(
        {"customer_id": data.index.astype(str), "uplift": uplift}
    ).sort_values("customer_id", ignore_index=True)
    return result
