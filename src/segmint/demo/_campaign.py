"""One randomised campaign with a known heterogeneous effect, and the campaigns table.

The campaign targets customers who bought in the year before it and may be emailed;
20 % are held out at random.  Response probability is ``baseline`` for the control arm
and ``baseline + effect`` for the treated, with ``effect = group effect + band effect``
(both scaled down for customers who had already left), clipped to [0, 1]; the exact
conditional average treatment effect of every targeted customer is kept as truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from segmint.demo import _arrow as ax
from segmint.demo._engagement import Base

CAMPAIGN_ID = "KAMP-2026-09"
CONTROL_SHARE = 0.2
INACTIVE_FACTOR = 0.25  # baseline and effect for customers who left before the campaign


@dataclass(frozen=True)
class Campaign:
    """Who was targeted, in which arm, and what the truth is."""

    targeted: np.ndarray  # bool per customer
    treated: np.ndarray  # bool per customer (False outside the target)
    baseline: np.ndarray  # nan outside the target
    cate: np.ndarray  # nan outside the target
    responded: np.ndarray
    start_day: float
    end_day: float
    contacts: pa.Table


def run_campaign(
    rng: np.random.Generator,
    base: Base,
    last_order_before: np.ndarray,
    may_email: np.ndarray,
    dropout_day: np.ndarray,
    spend: np.ndarray,
    start: np.datetime64,
    end: np.datetime64,
) -> Campaign:
    """Draw the arms and responses.  ``spend`` is each customer's mean spend (p/nu)."""
    sc = base.scenario
    start_day = float((start - base.epoch.astype("datetime64[D]")).astype(int))
    end_day = float((end - base.epoch.astype("datetime64[D]")).astype(int))
    recent = last_order_before >= start_day - 365
    targeted = recent & may_email
    who = np.flatnonzero(targeted)
    m = len(who)
    treated_w = rng.random(m) >= CONTROL_SHARE
    active = np.isnan(dropout_day[who]) | (dropout_day[who] > start_day)
    factor = np.where(active, 1.0, INACTIVE_FACTOR)
    p0 = base.param("campaign_baseline")[who] * factor
    effect = (
        base.param("campaign_effect")[who] + np.array(sc.band_effect)[base.band[who]]
    ) * factor
    p1 = np.clip(p0 + effect, 0.0, 1.0)
    responded_w = rng.random(m) < np.where(treated_w, p1, p0)
    # a responder's order is one more draw from their own spend distribution
    shape = base.param("p")[who]
    value = np.where(responded_w, np.round(rng.gamma(shape) * spend[who] / shape, 2), 0.0)

    n = base.n
    treated = np.zeros(n, dtype=bool)
    treated[who] = treated_w
    baseline = np.full(n, np.nan)
    baseline[who] = p0
    cate = np.full(n, np.nan)
    cate[who] = p1 - p0
    responded = np.zeros(n, dtype=bool)
    responded[who] = responded_w
    contacts = ax.entity_table(
        "campaign_contacts",
        {
            "campaign_id": ax.constant(CAMPAIGN_ID, m),
            "customer_id": base.customer_ids.take(ax.indices(who)),
            "arm": ax.take(["control", "treatment"], treated_w.astype(np.int64)),
            "contact_date": ax.dates(base.epoch, np.full(m, start_day)),
            "responded": pa.array(responded_w),
            "response_value": pa.array(value),
        },
        m,
    )
    return Campaign(targeted, treated, baseline, cate, responded, start_day, end_day, contacts)


def campaigns_table(
    base: Base,
    campaign: Campaign,
    newsletter_ids: list[str],
    newsletter_names: list[str],
    newsletter_days: np.ndarray,
) -> pa.Table:
    """The newsletters and the campaign."""
    k = len(newsletter_ids)
    days = np.concatenate([newsletter_days, [campaign.start_day]])
    ends = np.concatenate([newsletter_days, [campaign.end_day]])
    return ax.entity_table(
        "campaigns",
        {
            "campaign_id": pa.array([*newsletter_ids, CAMPAIGN_ID], pa.string()),
            "name": pa.array([*newsletter_names, base.scenario.campaign_name], pa.string()),
            "channel": ax.constant("email", k + 1),
            "start_date": ax.dates(base.epoch, days),
            "end_date": ax.dates(base.epoch, ends),
        },
        k + 1,
    )


def campaign_truth(base: Base, campaign: Campaign) -> dict[str, Any]:
    """The planted effect: definition, and the exact CATE averaged per group and band."""
    sc = base.scenario
    t = campaign.targeted

    def mean_by(labels: np.ndarray, names: tuple[str, ...]) -> dict[str, float | None]:
        out: dict[str, float | None] = {}
        for k, name in enumerate(names):
            sel = t & (labels == k)
            out[name] = float(campaign.cate[sel].mean()) if sel.any() else None
        return out

    return {
        "campaign_id": CAMPAIGN_ID,
        "name": sc.campaign_name,
        "control_share": CONTROL_SHARE,
        "target_rule": "ordered in the 365 days before the start and may be emailed at the start",
        "baseline_by_group": {g.name: g.campaign_baseline for g in sc.groups},
        "effect_by_group": {g.name: g.campaign_effect for g in sc.groups},
        f"effect_by_{sc.band_name}": dict(zip(sc.bands, sc.band_effect, strict=True)),
        "inactive_factor": INACTIVE_FACTOR,
        "effect_definition": (
            "P(respond | treated) - P(respond | control) = clip(baseline + effect) - baseline,"
            " baseline = group baseline * f, effect = (group effect + band effect) * f,"
            " f = 1 if the customer had not dropped out before the start else inactive_factor"
        ),
        "n_targeted": int(t.sum()),
        "n_treated": int(campaign.treated.sum()),
        "ate": float(campaign.cate[t].mean()) if t.any() else None,
        "cate_by_group": mean_by(base.group, tuple(g.name for g in sc.groups)),
        f"cate_by_{sc.band_name}": mean_by(base.band, sc.bands),
    }
