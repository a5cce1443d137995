"""VALUE from the survey: what a group answered (needs, goals) and its NPS.

Each customer counts with their latest answer (``survey_responses`` by person, before the
run's as-of date).  The answers are the numeric extra columns of ``survey_responses``
(``q_price``, ``q_quality``, ...: Likert items), and ``nps`` (0-10).  The NPS of a group
is the share of promoters (9-10) minus the share of detractors (0-6), times 100, among
its respondents.  Item means get an index against all respondents, like the traits.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import pandas as pd

from segmint.profiles._base import ProfileBase

_NOT_ITEMS = frozenset({"response_id", "customer_id", "survey_id", "response_date", "nps"})


@dataclass
class SurveyStats:
    """Per group: respondents, NPS, and the mean answer to each item."""

    respondents: pd.Series  # group -> respondents
    nps: pd.Series  # group -> NPS (-100..100); NaN without answers
    items: pd.DataFrame  # group x item -> mean answer


def latest_answers(pb: ProfileBase) -> ir.Table | None:
    """Each person's latest survey answer before the run's as-of date, or None."""
    from segmint.traits._activity import activity

    answers = activity(pb.engine, "survey_responses", pb.as_of)
    if answers is None:
        return None
    items = [
        c
        for c, dt in answers.schema().items()
        if dt.is_numeric() and c not in _NOT_ITEMS and not c.startswith("_")
    ]
    cols = ["nps", *items] if "nps" in answers.columns else items
    if not cols:
        return None
    order = [ibis.desc(answers._time)]
    if "response_id" in answers.columns:
        order.append(ibis.desc(answers.response_id))
    ranked = answers.mutate(_k=ibis.row_number().over(group_by="customer_id", order_by=order))
    return ranked.filter(ranked._k == 0).select("customer_id", *cols)


def survey_stats(pb: ProfileBase, members: ir.Table) -> SurveyStats | None:
    """The survey figures of every group in ``members``; None when there is no survey."""
    answers = latest_answers(pb)
    if answers is None:
        return None
    a = pb.keep(answers, "survey_latest")
    items = [c for c in a.columns if c not in ("customer_id", "nps")]
    m = members.rename(_mcid="customer_id")
    j = m.join(a, m._mcid == a.customer_id)
    aggs: dict[str, ir.Value] = {"_n": j.count()}
    if "nps" in a.columns:
        known = j.nps.notnull()
        aggs["_nps_n"] = known.cast("int64").sum()
        aggs["_promoters"] = (j.nps >= 9).cast("int64").sum()
        aggs["_detractors"] = (j.nps <= 6).cast("int64").sum()
    for c in items:
        aggs[c] = j[c].cast("float64").mean()
    df = j.group_by("group").aggregate(**aggs).to_pandas().set_index("group")
    if "nps" in a.columns:
        n = df["_nps_n"].where(df["_nps_n"] > 0)
        nps = 100.0 * (df["_promoters"] - df["_detractors"]) / n
    else:
        nps = pd.Series(float("nan"), index=df.index)
    return SurveyStats(df["_n"].astype("int64"), nps.astype("float64"), df[items].astype(float))
