"""Readable names for found groups, from the traits that set each apart.

A cluster's name is built from its most distinguishing numeric traits (its centre in
standard deviations from the base: "Frequent", "high spenders"), the text trait levels it
over-represents ("webshop"), and the attributes it leans to without being clustered on
them (an age band, a region): "Frequent high spenders, 30-44, Hovedstaden".  Users replace
any name in ``segmint.yaml`` by the group's stable label.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

#: trait -> (word when high, word when low, part of speech); nouns end a name
WORDS: dict[str, tuple[str, str, str]] = {
    "frequency": ("frequent", "infrequent", "adj"),
    "orders_365d": ("frequent", "infrequent", "adj"),
    "orders_90d": ("active", "quiet", "adj"),
    "monetary": ("high spenders", "low spenders", "noun"),
    "spend_365d": ("high spenders", "low spenders", "noun"),
    "clv": ("high-value customers", "low-value customers", "noun"),
    "avg_order_value": ("big-basket", "small-basket", "adj"),
    "recency_days": ("lapsed", "recent", "adj"),
    "tenure_days": ("long-standing", "new", "adj"),
    "distinct_categories": ("broad", "single-category", "adj"),
    "web_visits_365d": ("web-active", "offline", "adj"),
    "email_opens_365d": ("email-engaged", "email-silent", "adj"),
    "service_tickets_365d": ("service-heavy", "low-service", "adj"),
    "employees": ("large", "small", "adj"),
    "age": ("older", "younger", "adj"),
}
#: a numeric trait names a group when its centre is this many standard deviations away
MIN_Z = 0.5
#: a text level names a group when its share there is this many times the base share
MIN_LIFT = 1.3
MIN_SHARE = 0.3
AGE_BANDS = ((18, "18-29"), (30, "30-44"), (45, "45-59"), (60, "60-74"), (75, "75+"))


def age_band(age: float) -> str:
    """The demo's and Statistics Denmark's household bands: 18-29, 30-44, ..., 75+."""
    band = "under 18"
    for lo, name in AGE_BANDS:
        if age >= lo:
            band = name
    return band


def _phrase(z: Mapping[str, float], max_words: int = 3) -> str:
    ranked = sorted(((abs(v), t, v) for t, v in z.items() if abs(v) >= MIN_Z), reverse=True)
    adjs: list[str] = []
    noun: str | None = None
    for _, trait, v in ranked[:max_words]:
        high, low, pos = WORDS.get(trait, (f"high {trait}", f"low {trait}", "adj"))
        word = high if v > 0 else low
        if pos == "noun" and noun is None:
            noun = word
        elif pos != "noun" and word not in adjs:
            adjs.append(word)
    text = " ".join([*adjs, noun or "customers"])
    return text[:1].upper() + text[1:]


def _leaning(members: pd.Series, base: pd.Series, *, numeric_as_age: bool = False) -> str | None:
    """The value ``members`` lean to, when they do clearly (else None)."""
    members, base = members.dropna(), base.dropna()
    if members.empty or base.empty:
        return None
    if pd.api.types.is_numeric_dtype(base) and not pd.api.types.is_bool_dtype(base):
        if not numeric_as_age:
            return None
        members, base = members.map(age_band), base.map(age_band)
    share = members.astype(str).value_counts(normalize=True)
    base_share = base.astype(str).value_counts(normalize=True)
    top = str(share.index[0])
    lift = share.iloc[0] / base_share.get(top, np.nan)
    if share.iloc[0] >= MIN_SHARE and lift >= MIN_LIFT:
        return top
    return None


def name_groups(
    labels: Sequence[int],
    z: Mapping[int, Mapping[str, float]],
    levels: Mapping[int, Sequence[str]],
    sample: pd.DataFrame,
    assigned: np.ndarray,
    describe_by: Sequence[str],
    overrides: Mapping[int, str] | None = None,
) -> dict[int, str]:
    """A unique name per label.

    Parameters
    ----------
    labels
        The stable labels.
    z
        Label -> numeric trait -> centre in standard deviations from the base.
    levels
        Label -> text trait levels the group over-represents ("top_channel=webshop").
    sample, assigned
        Customers (with the ``describe_by`` columns) and their labels.
    describe_by
        Attributes to mention when a group leans to one value.
    overrides
        The user's names by label.
    """
    names: dict[int, str] = {}
    for label in labels:
        parts = [_phrase(z.get(label, {}))]
        parts += [lv.split("=", 1)[1] for lv in levels.get(label, [])[:1]]
        mine = sample[assigned == label]
        for col in describe_by:
            if col in sample.columns:
                lean = _leaning(mine[col], sample[col], numeric_as_age=col == "age")
                if lean is not None:
                    parts.append(lean)
        names[label] = ", ".join(parts)
    seen: dict[str, int] = {}
    for label in labels:
        n = names[label]
        seen[n] = seen.get(n, 0) + 1
    for label in labels:
        if seen[names[label]] > 1:
            names[label] = f"{names[label]} ({label})"
    for label, name in (overrides or {}).items():
        if label in names:
            names[label] = name
    return names


def text_levels(
    raw_centre: np.ndarray, base_mean: np.ndarray, columns: Sequence[tuple[str, str | None]]
) -> list[str]:
    """``trait=level`` indicators a centre over-represents, strongest first."""
    found: list[tuple[float, str]] = []
    for j, (trait, level) in enumerate(columns):
        if level is None or level in ("other", "(none)") or base_mean[j] <= 0:
            continue
        lift = raw_centre[j] / base_mean[j]
        if raw_centre[j] >= MIN_SHARE and lift >= MIN_LIFT:
            found.append((lift, f"{trait}={level}"))
    return [s for _, s in sorted(found, reverse=True)]
