"""Next best action: rules that map segments and scores to actions, and the campaign plan.

Each action has an eligibility rule in the segment rule language (so it can use segments,
traits and every model score of the last run: ``churn_probability``, ``propensity_<c>``,
``next_best_category``, ``clv``, ``lead_score``, RFM cells, lifecycle stages), a channel,
a priority and a control share.  Planning walks the actions from the most urgent
(lowest ``priority``; ties in the order written) and gives each eligible customer the
action if

- they have a free slot (``max_actions_per_customer`` per plan, default 1),
- they consent to the channel (the trait ``consent_<channel>`` is true) when
  ``require_consent`` is on and the project has that trait,
- every frequency cap on the channel has room: contacts of the treatment arm in
  ``campaign_contacts`` in the cap's window (of campaigns on that channel, for a
  channel cap), plus the actions planned so far, stay within ``max_contacts``,
- they were not held out of an earlier action in this plan.

A customer given an action falls in its control group when the hash draw of
:mod:`segmint.actions._holdout` says so: they are recorded with ``arm = control``, are
not contacted, use no contact cap, and get no other action in the plan (so the control
group measures the action against nothing).

The plan is one row per (customer, action) with the arm, kept in the table
``action_plan`` and written as files (see :func:`write_plan_files`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from segmint.actions._config import FrequencyCap, NextBestActionSettings
from segmint.actions._holdout import in_control

if TYPE_CHECKING:
    from segmint.config import ProjectConfig
    from segmint.engine import Engine

ACTION_PLAN = "action_plan"
PLAN_COLUMNS = (
    "plan_id", "campaign_id", "customer_id", "action", "kind", "channel", "priority", "arm",
    "offer", "contact_date",
)  # fmt: skip


@dataclass
class ActionCount:
    """What happened to the customers eligible for one action."""

    action: str
    channel: str
    eligible: int = 0
    treated: int = 0
    control: int = 0
    no_consent: int = 0
    capped: int = 0
    no_offer: int = 0  # cross-sell without a next best category
    taken: int = 0  # had no free slot: a more urgent action came first (or held out)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Plan:
    """A campaign plan: rows (``PLAN_COLUMNS``) and what each action did."""

    plan_id: str
    as_of: datetime
    rows: pd.DataFrame
    actions: list[ActionCount] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "plan_id": self.plan_id,
            "as_of": self.as_of.isoformat(),
            "rows": len(self.rows),
            "actions": [a.to_dict() for a in self.actions],
            "by_channel": {
                str(k): int(v)
                for k, v in self.rows[self.rows.arm == "treatment"].channel.value_counts().items()
            },
            "files": self.files,
        }


def past_contacts(
    history: pd.DataFrame, customers: pd.Index, cap: FrequencyCap, as_of: datetime
) -> np.ndarray:
    """Treated contacts of each customer in the ``cap.days`` days before ``as_of``.

    ``history``: ``customer_id``, ``contact_date``, ``channel``, ``arm``.
    """
    if history.empty:
        return np.zeros(len(customers), dtype=np.int64)
    h = history[history.arm == "treatment"]
    when = pd.to_datetime(h.contact_date)
    h = h[(when >= pd.Timestamp(as_of - timedelta(days=cap.days))) & (when < pd.Timestamp(as_of))]
    if cap.channel is not None:
        h = h[h.channel == cap.channel]
    counts = h.groupby("customer_id").size()
    return counts.reindex(customers, fill_value=0).to_numpy()


def plan_frame(
    eligible: dict[str, pd.Index],
    settings: NextBestActionSettings,
    *,
    as_of: datetime,
    plan_id: str,
    consent: pd.DataFrame | None = None,
    history: pd.DataFrame | None = None,
    offers: pd.Series | None = None,
) -> Plan:
    """Plan the actions of ``settings`` for the eligible customers of each action.

    Parameters
    ----------
    eligible
        Action name -> the customer ids its ``when`` rule selects.
    consent
        Customer id index, one boolean column ``consent_<channel>`` per channel (missing
        column: that channel is not checked).
    history
        Past contacts: ``customer_id``, ``contact_date``, ``channel``, ``arm``.
    offers
        The next best category per customer id, for cross-sell actions.
    """
    every = [np.asarray(ids, dtype=object) for ids in eligible.values()]
    customers = pd.Index(np.concatenate(every) if every else [], dtype=object)
    customers = customers.unique().sort_values()
    n = len(customers)
    slots = np.full(n, settings.max_actions_per_customer, dtype=np.int64)
    held = np.zeros(n, dtype=bool)
    hist = history if history is not None else pd.DataFrame(
        columns=["customer_id", "contact_date", "channel", "arm"]
    )  # fmt: skip
    room = [
        cap.max_contacts - past_contacts(hist, customers, cap, as_of)
        for cap in settings.frequency_caps
    ]
    agrees: dict[str, np.ndarray] = {}  # consent per channel, aligned with ``customers``
    if settings.require_consent and consent is not None:
        for col in consent.columns:
            agrees[col] = consent[col].reindex(customers).eq(True).to_numpy(dtype=bool)
    order = sorted(range(len(settings.actions)), key=lambda i: (settings.actions[i].priority, i))
    parts: list[pd.DataFrame] = []
    counts: list[ActionCount] = []
    for i in order:
        action = settings.actions[i]
        count = ActionCount(action.name, action.channel)
        ids = eligible.get(action.name, pd.Index([]))
        pos = customers.get_indexer(pd.Index(ids).unique())
        pos = np.sort(pos[pos >= 0])
        count.eligible = len(pos)
        ok = np.ones(len(pos), dtype=bool)
        free = (slots[pos] > 0) & ~held[pos]
        count.taken = int((~free).sum())
        ok &= free
        col = f"consent_{action.channel}"
        if col in agrees:
            agree = agrees[col][pos]
            count.no_consent = int((ok & ~agree).sum())
            ok &= agree
        offer: np.ndarray = np.full(len(pos), action.offer, dtype=object)
        if action.kind == "cross-sell" and action.offer is None:
            best = (offers if offers is not None else pd.Series(dtype=object)).reindex(
                customers[pos]
            )
            offer = best.to_numpy(dtype=object)
            count.no_offer = int((ok & best.isna().to_numpy()).sum())
            ok &= best.notna().to_numpy()
        applies = [
            c.channel is None or c.channel == action.channel for c in settings.frequency_caps
        ]
        within = np.ones(len(pos), dtype=bool)
        for cap_room, on in zip(room, applies, strict=True):
            if on:
                within &= cap_room[pos] > 0
        count.capped = int((ok & ~within).sum())
        ok &= within
        chosen = pos[ok]
        control = in_control(settings.salt, action.name, customers[chosen], action.control_share)
        treated = chosen[~control]
        slots[chosen] -= 1
        held[chosen[control]] = True
        for cap_room, on in zip(room, applies, strict=True):
            if on:
                cap_room[treated] -= 1
        count.treated, count.control = len(treated), int(control.sum())
        counts.append(count)
        parts.append(
            pd.DataFrame(
                {
                    "plan_id": plan_id,
                    "campaign_id": f"{action.name}-{as_of:%Y%m%d}",
                    "customer_id": customers[chosen].astype(str),
                    "action": action.name,
                    "kind": action.kind,
                    "channel": action.channel,
                    "priority": action.priority,
                    "arm": np.where(control, "control", "treatment"),
                    "offer": offer[ok],
                    "contact_date": pd.Timestamp(as_of).normalize(),
                }
            )
        )
    rows = (
        pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(PLAN_COLUMNS))
    )
    # already in plan order: by priority, then as written, then by customer id
    return Plan(plan_id, as_of, rows[list(PLAN_COLUMNS)], counts)


def write_plan_files(plan: Plan, folder: Path) -> list[str]:
    """Write ``<folder>/<plan_id>/``: one CSV per channel with the customers to contact
    (treatment arm only), ``holdout.csv`` with the control groups (not to be contacted),
    and ``plan.csv`` with both: the columns of ``campaign_contacts`` first, so once the
    campaign is sent ``segmint load campaign_contacts plan.csv`` records it."""
    out = Path(folder) / plan.plan_id
    out.mkdir(parents=True, exist_ok=True)
    files: list[str] = []
    rows = plan.rows.assign(contact_date=pd.to_datetime(plan.rows.contact_date).dt.date)
    first = ["campaign_id", "customer_id", "arm", "contact_date"]
    rows = rows[first + [c for c in rows.columns if c not in first]]
    treated = rows[rows.arm == "treatment"]
    for channel, grp in treated.groupby("channel", sort=True):
        path = out / f"{channel}.csv"
        grp.to_csv(path, index=False)
        files.append(str(path))
    for name, part in (("holdout.csv", rows[rows.arm == "control"]), ("plan.csv", rows)):
        part.to_csv(out / name, index=False)
        files.append(str(out / name))
    return files


def _history(engine: Engine) -> pd.DataFrame:
    """Past contacts by person, with the channel of their campaign."""
    from segmint.traits import person_map

    cols = ["customer_id", "contact_date", "channel", "arm"]
    if not engine.has_table("campaign_contacts"):
        return pd.DataFrame(columns=cols)
    cc = engine.table("campaign_contacts")
    if engine.has_table("campaigns") and "channel" in engine.table("campaigns").columns:
        camp = engine.table("campaigns").select("campaign_id", "channel").distinct()
        cc = cc.left_join(camp, "campaign_id").select(
            "customer_id", "contact_date", "channel", "arm"
        )
    else:
        cc = cc.mutate(channel=None).select(*cols)
    df = cc.to_pyarrow().to_pandas()
    people = person_map(engine).to_pyarrow().to_pandas()
    lookup = dict(zip(people.customer_id, people.person_id, strict=True))
    df["customer_id"] = df.customer_id.astype(str).map(lambda c: lookup.get(c, c))
    return df


def plan_actions(
    engine: Engine,
    config: ProjectConfig,
    *,
    now: datetime | None = None,
    plan_id: str | None = None,
) -> Plan:
    """Plan the project's actions on the last run's segments and scores, and store the
    plan as ``action_plan`` (replacing the previous one)."""
    import ibis
    import pyarrow as pa

    from segmint.exceptions import ConfigError
    from segmint.runs import RUNS, TRAITS, current_members, last_successful_run, new_run_id
    from segmint.segments._compile import compile_segment
    from segmint.segments._evaluate import rule_context
    from segmint.traits._attributes import customer_attributes

    settings = config.actions.next_best_action
    if not settings.actions:
        raise ConfigError("actions.next_best_action.actions is empty: declare actions first")
    run_id = last_successful_run(engine)
    if run_id is None or not engine.has_table(TRAITS):
        raise ConfigError("no run yet: run 'segmint run' before planning actions")
    r = engine.table(RUNS)
    as_of = r.filter(r.run_id == run_id).as_of.execute().iloc[0].to_pydatetime()
    traits = engine.table(TRAITS)
    traits = traits.drop(*(c for c in ("run_id", "as_of") if c in traits.columns))
    attrs = customer_attributes(engine)
    attrs = attrs.drop(*(c for c in attrs.columns if c in traits.columns and c != "customer_id"))
    base = traits.left_join(attrs, "customer_id").select(
        *traits.columns, *(c for c in attrs.columns if c != "customer_id")
    )
    cur = current_members(engine)
    assert cur is not None
    names = [str(x) for x in cur.select("segment").distinct().segment.to_pyarrow().to_pylist()]
    members = {n: cur.filter(cur.segment == n).select("customer_id") for n in names}
    ctx = rule_context(engine, base, config, as_of, members)
    eligible: dict[str, pd.Index] = {}
    for i, action in enumerate(settings.actions):
        path = f"actions.next_best_action.actions[{i}].when"
        ids = compile_segment(action.when, ctx, path=path).customer_id.to_pyarrow().to_pylist()
        eligible[action.name] = pd.Index([str(x) for x in ids], dtype=object)
    consent_cols = [c for c in traits.columns if c.startswith("consent_")]
    needs_offer = any(a.kind == "cross-sell" and a.offer is None for a in settings.actions)
    if needs_offer and "next_best_category" not in traits.columns:
        raise ConfigError(
            "a cross-sell action without an offer needs next_best_category: enable "
            "models.propensity"
        )
    extra = consent_cols + (["next_best_category"] if needs_offer else [])
    scores = traits.select("customer_id", *extra).to_pyarrow().to_pandas()
    scores = scores.set_index(scores.customer_id.astype(str))
    plan_id = plan_id or new_run_id(now or datetime.now())
    plan = plan_frame(
        eligible,
        settings,
        as_of=as_of,
        plan_id=plan_id,
        consent=scores[consent_cols] if consent_cols else None,
        history=_history(engine),
        offers=scores["next_best_category"] if needs_offer else None,
    )
    schema = pa.schema(
        [("plan_id", pa.string()), ("campaign_id", pa.string()), ("customer_id", pa.string()),
         ("action", pa.string()), ("kind", pa.string()), ("channel", pa.string()),
         ("priority", pa.int64()), ("arm", pa.string()), ("offer", pa.string()),
         ("contact_date", pa.timestamp("us"))]
    )  # fmt: skip
    rows = plan.rows.assign(offer=plan.rows.offer.astype(object).where(plan.rows.offer.notna()))
    table = pa.Table.from_pandas(rows, schema=schema, preserve_index=False)
    engine.write(ACTION_PLAN, ibis.memtable(table))
    return plan
