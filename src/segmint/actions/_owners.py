"""Owner assignment for B2B accounts: sticky owners, territory rules, balanced round robin,
capacity caps.

The algorithm is plain Python over a small frame (a sales team owns thousands of accounts,
not millions): no library assigns accounts to salespeople, and CRM tools keep this logic
inside their products. It is deterministic: the same accounts, previous owners and
settings give the same assignment.

1. **Sticky**: with ``sticky`` on, an account keeps its previous owner (from the last
   assignment, or from the customers' ``owner`` field with ``crm_owner``) when that owner
   is still an active salesperson and has room; an owner over capacity keeps the
   highest-ranked accounts and releases the rest.
2. **Territories**: every other account goes to the first territory whose countries,
   regions, NACE prefixes and size bands it matches, to the territory's salesperson with
   the fewest accounts (ties: in turn after the last one picked, so equal owners take
   turns: A, B, C, A, ...).
3. **Overflow**: an account no territory matches, or whose territory's salespeople are
   all full, goes the same way to every salesperson with room (``round_robin``), or stays
   unassigned (``none``).

Accounts are taken in order of ``order_by`` (highest first, then customer id), so when
capacity runs short the best leads are assigned and the rest wait.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pandas as pd

from segmint.actions._config import SIZE_BANDS, OwnersSettings, Territory

if TYPE_CHECKING:
    from segmint.config import ProjectConfig
    from segmint.engine import Engine

#: the table of owners, one row per account (customer_id is the person id)
ACCOUNT_OWNERS = "account_owners"
OWNER_COLUMNS = ("customer_id", "owner", "rule", "assigned_at")
ACCOUNT_FIELDS = ("customer_id", "country", "region", "nace_code", "employees")
UNASSIGNED_FULL = "unassigned: every salesperson is at capacity"
UNASSIGNED_NO_TERRITORY = "unassigned: no territory matches"


def size_band(employees: float | None) -> str | None:
    """The EU size band of a head count (None when unknown)."""
    if employees is None or (isinstance(employees, float) and math.isnan(employees)):
        return None
    for name, low, high in SIZE_BANDS:
        if employees >= low and (high is None or employees <= high):
            return name
    return None


def matches(territory: Territory, account: Mapping[Any, Any]) -> bool:
    """Whether an account (country, region, nace_code, employees) is in ``territory``."""
    if territory.countries and account.get("country") not in territory.countries:
        return False
    if territory.regions and account.get("region") not in territory.regions:
        return False
    if territory.nace:
        code = str(account.get("nace_code") or "")
        if not any(code.startswith(p) for p in territory.nace):
            return False
    return not (
        territory.size_bands and size_band(account.get("employees")) not in territory.size_bands
    )


@dataclass
class _Team:
    """Accounts per salesperson, and whose turn it is in each pool."""

    capacity: dict[str, float]
    load: dict[str, int]
    last: dict[tuple[str, ...], str]

    def room(self, name: str) -> bool:
        return name in self.capacity and self.load[name] < self.capacity[name]

    def pick(self, pool: Sequence[str]) -> str | None:
        """The salesperson of ``pool`` with room and the fewest accounts; ties in turn."""
        open_ = [n for n in pool if self.room(n)]
        if not open_:
            return None
        key = tuple(pool)
        start = (pool.index(self.last[key]) + 1) if key in self.last else 0
        turn = {n: (pool.index(n) - start) % len(pool) for n in open_}
        chosen = min(open_, key=lambda n: (self.load[n], turn[n]))
        self.last[key] = chosen
        self.load[chosen] += 1
        return chosen


def assign_owners(
    accounts: pd.DataFrame,
    settings: OwnersSettings,
    *,
    previous: pd.DataFrame | None = None,
    now: datetime | None = None,
) -> pd.DataFrame:
    """Assign an owner to every account.

    Parameters
    ----------
    accounts
        One row per account: ``customer_id``, and ``country``, ``region``, ``nace_code``,
        ``employees`` for territories; optional ``score`` (higher first) and
        ``crm_owner`` (used with ``settings.crm_owner``).
    settings
        Salespeople, territories, capacity, stickiness and overflow.
    previous
        The last assignment (``customer_id``, ``owner``, ``rule``, ``assigned_at``).
    now
        Time stamped on new assignments (default: now, UTC).

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``owner`` (null when unassigned), ``rule`` (what assigned it: kept
        from the earlier assignment for a sticky owner) and ``assigned_at`` (when it was
        first assigned to this owner), sorted by ``customer_id``.
    """
    now = now or datetime.now(UTC).replace(tzinfo=None)
    frame = accounts.copy()
    frame["customer_id"] = frame["customer_id"].astype(str)
    if "score" not in frame:
        frame["score"] = float("nan")
    frame["_rank_score"] = pd.to_numeric(frame["score"], errors="coerce").fillna(-math.inf)
    frame = frame.sort_values(["_rank_score", "customer_id"], ascending=[False, True])
    active = [s for s in settings.salespeople if s.active]
    team = _Team(
        capacity={s.name: math.inf if s.capacity is None else s.capacity for s in active},
        load={s.name: 0 for s in active},
        last={},
    )
    before: dict[str, tuple[str, str, Any]] = {}
    if previous is not None and len(previous):
        for r in previous.itertuples(index=False):
            if isinstance(r.owner, str) and r.owner:
                before[str(r.customer_id)] = (r.owner, str(r.rule), r.assigned_at)
    rows: dict[str, tuple[str | None, str, Any]] = {}
    records = frame.to_dict("records")
    if settings.sticky:
        for acc in records:
            cid = acc["customer_id"]
            owner, rule, at = before.get(cid, (None, "", None))
            if owner is None and settings.crm_owner and isinstance(acc.get("crm_owner"), str):
                owner, rule, at = acc["crm_owner"], "crm owner", now
            if owner is not None and team.room(owner):
                team.load[owner] += 1
                rows[cid] = (owner, rule, at)
    everyone = [s.name for s in active]
    for acc in records:
        cid = acc["customer_id"]
        if cid in rows:
            continue
        territory = next((t for t in settings.territories if matches(t, acc)), None)
        owner = team.pick(territory.owners) if territory is not None else None
        rule = f"territory {territory.name}" if territory is not None else ""
        if owner is None and settings.overflow == "round_robin":
            owner = team.pick(everyone)
            rule = "round robin" if territory is None else f"overflow from {rule}"
        if owner is None:
            full = territory is not None or settings.overflow == "round_robin"
            rows[cid] = (None, UNASSIGNED_FULL if full else UNASSIGNED_NO_TERRITORY, now)
            continue
        kept = before.get(cid)
        at = kept[2] if kept is not None and kept[0] == owner else now
        rows[cid] = (owner, rule, at)
    out = pd.DataFrame(
        [(cid, o, r, at) for cid, (o, r, at) in rows.items()], columns=list(OWNER_COLUMNS)
    )
    out["assigned_at"] = pd.to_datetime(out["assigned_at"])
    return out.sort_values("customer_id", ignore_index=True)


@dataclass(frozen=True)
class OwnerReport:
    """What one assignment did."""

    accounts: int
    by_owner: dict[str, int]
    by_rule: dict[str, int]
    changed: int
    unassigned: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "accounts": self.accounts,
            "by_owner": self.by_owner,
            "by_rule": self.by_rule,
            "changed": self.changed,
            "unassigned": self.unassigned,
        }


def account_frame(engine: Engine, config: ProjectConfig) -> pd.DataFrame:
    """The accounts of the last run: members of ``owners.accounts`` (or every company),
    with their firmographics, score (``owners.order_by``) and CRM owner."""
    from segmint.exceptions import ConfigError
    from segmint.runs import TRAITS, current_members, last_successful_run
    from segmint.traits._attributes import customer_attributes

    settings = config.actions.owners
    run_id = last_successful_run(engine)
    if run_id is None:
        raise ConfigError("no run yet: run 'segmint run' before assigning owners")
    # one row per person, each attribute merged across its records as traits merge them
    attrs = customer_attributes(engine, only=(*ACCOUNT_FIELDS[1:], "owner", "customer_type"))
    attrs = attrs.select(*ACCOUNT_FIELDS, "owner", "customer_type")
    if settings.accounts is not None:
        members = current_members(engine)
        assert members is not None
        known = members.filter(members.segment == settings.accounts).customer_id
        wanted = {str(x) for x in known.to_pyarrow().to_pylist()}
        if not wanted and settings.accounts not in _segment_names(config):
            raise ConfigError(
                f"actions.owners.accounts: no segment {settings.accounts!r}; "
                "name a segment of this project"
            )
        df = attrs.to_pyarrow().to_pandas()
        df = df[df["customer_id"].astype(str).isin(wanted)].reset_index(drop=True)
    else:
        df = attrs.filter(attrs.customer_type == "company").to_pyarrow().to_pandas()
    df["customer_id"] = df["customer_id"].astype(str)
    df = df.drop(columns=["customer_type"])
    df = df.rename(columns={"owner": "crm_owner"})
    df["score"] = float("nan")
    score = settings.order_by
    if score is not None and engine.has_table(TRAITS):
        traits = engine.table(TRAITS)
        if score in traits.columns:
            s = traits.select("customer_id", score).to_pyarrow().to_pandas()
            lookup = dict(zip(s["customer_id"].astype(str), s[score], strict=True))
            df["score"] = df["customer_id"].map(lookup).astype(float)
    return df


def _segment_names(config: ProjectConfig) -> set[str]:
    from segmint.segments._evaluate import family_segment_names

    return {s.name for s in config.segments} | set(family_segment_names(config))


def previous_owners(engine: Engine) -> pd.DataFrame | None:
    if not engine.has_table(ACCOUNT_OWNERS):
        return None
    return engine.table(ACCOUNT_OWNERS).to_pyarrow().to_pandas()


def assign_account_owners(
    engine: Engine, config: ProjectConfig, *, now: datetime | None = None
) -> OwnerReport:
    """Assign owners to the accounts of the last run and replace ``account_owners``.

    Accounts that left the account segment are dropped from the table; the write is one
    statement, so a failure leaves the previous assignment in place.
    """
    import pyarrow as pa

    from segmint.exceptions import ConfigError

    settings = config.actions.owners
    if not settings.salespeople:
        raise ConfigError("actions.owners.salespeople is empty: list who can own accounts")
    accounts = account_frame(engine, config)
    before = previous_owners(engine)
    result = assign_owners(accounts, settings, previous=before, now=now)
    schema = pa.schema(
        [("customer_id", pa.string()), ("owner", pa.string()), ("rule", pa.string()),
         ("assigned_at", pa.timestamp("us"))]
    )  # fmt: skip
    engine.write(ACCOUNT_OWNERS, pa.Table.from_pandas(result, schema=schema, preserve_index=False))
    old = {} if before is None else dict(zip(before.customer_id, before.owner, strict=True))
    changed = sum(
        1 for c, o in zip(result.customer_id, result.owner, strict=True) if old.get(c) != o
    )
    assigned = result[result.owner.notna()]
    return OwnerReport(
        accounts=len(result),
        by_owner={str(k): int(v) for k, v in assigned.owner.value_counts().sort_index().items()},
        by_rule={str(k): int(v) for k, v in result.rule.value_counts().sort_index().items()},
        changed=changed,
        unassigned=int(result.owner.isna().sum()),
    )
