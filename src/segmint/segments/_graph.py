"""Segment dependencies: which segments a rule uses (``in_segment``), cycles, evaluation order.

The order comes from the standard library's :mod:`graphlib` (Kahn's algorithm with cycle
detection); this module adds what users need on top: errors that name the path of the
cycle (``a -> b -> a``) and of each unknown reference, and an order that is stable in the
order segments are declared.
"""

from __future__ import annotations

import graphlib
import heapq
from collections.abc import Collection, Sequence

from segmint.exceptions import ConfigError
from segmint.segments._checks import RuleCatalog, check_rule, walk
from segmint.segments._parse import (
    did_you_mean,
)
from segmint.segments._rules import (
    InSegment,
    Rule,
    SegmentDefinition,
)


def segment_references(rule: Rule, path: str = "rule") -> list[tuple[str, str]]:
    """The segments ``rule`` uses, as ``(name, path of the in_segment key)``, in rule order."""
    return [
        (cond.in_segment, f"{where}.in_segment")
        for where, cond in walk(rule, path)
        if isinstance(cond, InSegment)
    ]


def dependencies(
    segments: Sequence[SegmentDefinition],
    *,
    external: Collection[str] = (),
    path: str = "segments",
) -> dict[str, list[str]]:
    """Each segment's direct dependencies among ``segments`` (external names left out).

    Parameters
    ----------
    segments
        The rule segments, in declaration order.
    external
        Names of segments defined elsewhere (RFM cells, model segments, uploads) that
        rules may use; they depend on no rule segment.
    path
        Config path of the ``segments`` list, for error messages.

    Raises
    ------
    ConfigError
        For every reference to a segment that is neither defined nor external.
    """
    names = {s.name for s in segments}
    known = names | set(external)
    deps: dict[str, list[str]] = {}
    problems: list[str] = []
    for i, seg in enumerate(segments):
        uses: list[str] = []
        for name, where in segment_references(seg.rule, f"{path}[{i}].rule"):
            if name not in known:
                problems.append(f"unknown segment {name!r} at {where}{did_you_mean(name, known)}")
            elif name in names and name not in uses:
                uses.append(name)
        deps[seg.name] = uses
    if problems:
        raise ConfigError("\n".join(problems))
    return deps


def evaluation_order(
    segments: Sequence[SegmentDefinition],
    *,
    external: Collection[str] = (),
    path: str = "segments",
) -> list[str]:
    """Segment names in an order where each comes after every segment it uses.

    Among segments whose dependencies are met, declaration order wins, so the order is
    stable when unrelated segments are added.

    Raises
    ------
    ConfigError
        When references form a cycle (the message shows it: ``a -> b -> a``) or name an
        unknown segment.
    """
    deps = dependencies(segments, external=external, path=path)
    position = {s.name: i for i, s in enumerate(segments)}
    try:
        graphlib.TopologicalSorter(deps).prepare()
    except graphlib.CycleError as e:
        raise ConfigError(_cycle_message(list(e.args[1]), position, path)) from None
    # graphlib proved there is no cycle; pick, each time, the earliest declared segment
    # whose dependencies are done (a heap keyed by declaration position)
    waiting = {name: set(uses) for name, uses in deps.items()}
    users: dict[str, list[str]] = {name: [] for name in deps}
    for name, uses in deps.items():
        for used in uses:
            users[used].append(name)
    ready = [position[n] for n, uses in waiting.items() if not uses]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        name = segments[heapq.heappop(ready)].name
        order.append(name)
        for user in users[name]:
            waiting[user].discard(name)
            if not waiting[user]:
                heapq.heappush(ready, position[user])
    return order


def validate_segments(
    segments: Sequence[SegmentDefinition],
    catalog: RuleCatalog,
    *,
    external: Collection[str] = (),
    path: str = "segments",
) -> list[str]:
    """Check every rule against ``catalog`` and the references between segments.

    Returns
    -------
    list of str
        The evaluation order (see :func:`evaluation_order`).

    Raises
    ------
    ConfigError
        Listing every problem of every rule (one per line), else the unknown references,
        else the cycle.
    """
    problems: list[str] = []
    for i, seg in enumerate(segments):
        problems += check_rule(seg.rule, catalog, path=f"{path}[{i}].rule")
    if problems:
        raise ConfigError("\n".join(problems))
    return evaluation_order(segments, external=external, path=path)


def _cycle_message(cycle: list[str], position: dict[str, int], path: str) -> str:
    # graphlib lists the cycle against the dependency direction; show "a uses b" as a -> b
    nodes = list(reversed(cycle))[:-1]
    start = min(range(len(nodes)), key=lambda i: position[nodes[i]])
    nodes = nodes[start:] + nodes[:start]
    shown = " -> ".join([*nodes, nodes[0]])
    where = ", ".join(f"{path}[{position[n]}]" for n in nodes)
    return (
        f"segments use each other in a cycle: {shown} (at {where}); remove one of the "
        f"in_segment references"
    )
