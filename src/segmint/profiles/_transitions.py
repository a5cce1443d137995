"""Transitions: how many customers went from each segment to each other between two runs.

``segmint segments movement`` does this for one built-in family; here any set of
segments works: a family's cells (``rfm-``, ``lifecycle-``, ``tier-``), an exclusive
group's segments, the cells of clusters or macro segments once they are segments, or any
list of names.  A customer in none of the listed segments at a run counts under
``(none)``: customers who arrived, and customers who left.  The segments are meant to
be exclusive (a family, a group); a customer in two of them counts once per pair.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis

from segmint.engine import Engine
from segmint.exceptions import ConfigError

NONE = "(none)"


@dataclass(frozen=True)
class Transitions:
    """Customers per (segment at ``from_run``, segment at ``to_run``)."""

    from_run: str
    to_run: str
    segments: list[str]
    flows: list[dict[str, Any]]  # {"from": a, "to": b, "customers": n}, largest first

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def matrix(self) -> dict[str, dict[str, int]]:
        """from -> to -> customers, over the segments and (none)."""
        names = [*self.segments, NONE]
        out = {a: dict.fromkeys(names, 0) for a in names}
        for f in self.flows:
            out[f["from"]][f["to"]] += f["customers"]
        return out


def snapshot_runs(engine: Engine) -> list[str]:
    """Successful runs whose snapshot is still stored, newest first."""
    from segmint.runs import runs
    from segmint.segments import _snapshots as snapshots

    stored = set(snapshots.snapshot_runs(engine))
    if not stored:
        return []
    done = [r["run_id"] for r in runs(engine, limit=10_000) if r["status"] == "succeeded"]
    return [r for r in done if r in stored]


def transitions(
    engine: Engine,
    segments: list[str],
    *,
    from_run: str | None = None,
    to_run: str | None = None,
) -> Transitions:
    """Flows between ``segments`` from ``from_run`` (default: the one before) to ``to_run``
    (default: the last run with a snapshot).

    Raises
    ------
    ConfigError
        Fewer than two runs with a stored snapshot, or a run that has none.
    """
    from segmint.segments import _snapshots as snapshots

    stored = snapshot_runs(engine)
    to_run = to_run or (stored[0] if stored else None)
    if to_run is None:
        raise ConfigError("no run yet: run 'segmint run' first")
    if from_run is None:
        older = [r for r in stored if r < to_run]
        if not older:
            raise ConfigError(f"no stored run before {to_run}: run 'segmint run' again")
        from_run = older[0]
    for run_id in (from_run, to_run):
        if run_id not in stored:
            raise ConfigError(
                f"no snapshot of run {run_id} is stored (older runs are pruned: see "
                "runs.keep_snapshots)"
            )
    sides = []
    for run_id, tag in ((from_run, "a"), (to_run, "b")):
        members = snapshots.run_members(engine, run_id)
        assert members is not None
        mine = members.filter(members.segment.isin(segments))
        sides.append(mine.select(**{f"_{tag}_id": mine.customer_id, f"_{tag}": mine.segment}))
    a, b = sides
    both = a.outer_join(b, a._a_id == b._b_id)
    flows = both.group_by(src=both._a.fill_null(NONE), dst=both._b.fill_null(NONE)).aggregate(
        customers=both.count()
    )
    rows = flows.order_by([ibis.desc("customers"), "src", "dst"]).to_pyarrow().to_pylist()
    return Transitions(
        from_run,
        to_run,
        list(segments),
        [{"from": r["src"], "to": r["dst"], "customers": int(r["customers"])} for r in rows],
    )


def family_segments(engine: Engine, prefix: str, run_id: str | None = None) -> list[str]:
    """The segments named ``prefix...`` at ``run_id`` (default: the last run), in order."""
    from segmint.runs import last_successful_run
    from segmint.segments import _snapshots as snapshots

    run_id = run_id or last_successful_run(engine)
    if run_id is None or not engine.has_table(snapshots.SIZES):
        return []
    s = engine.table(snapshots.SIZES)
    mine = s.filter((s.run_id == run_id) & s.segment.startswith(prefix))
    return [str(x) for x in mine.order_by("segment").segment.to_pyarrow().to_pylist()]
