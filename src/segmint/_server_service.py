"""Use cases the server needs beside :mod:`segmint.service`: project status, runs, load
reports, pages of members, the fields a rule may name, and segment definitions checked and
saved one at a time.

Plain arguments in, plain data out, like :mod:`segmint.service`; the API calls these on a
:class:`~segmint.project.Project` whose engine is the serving replica (read-only), except
the segment writes, which change ``segmint.yaml`` only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter, ValidationError

from segmint.exceptions import ConfigError, SegmentNotFoundError

if TYPE_CHECKING:
    from segmint.project import Project
    from segmint.segments import SegmentDefinition

#: columns of a run record that are not traits (in ``customer_traits``)
_RUN_COLUMNS = ("customer_id", "run_id", "as_of")
_PATH = re.compile(r" at ((?:rule|name|description|segments)[\w\[\]\.]*)")


class DefinitionError(ConfigError):
    """A segment definition is wrong; ``field`` is the path of the first problem."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field if field is not None else field_of(message)


def field_of(message: str) -> str | None:
    """The config path a segmint error message names (``rule.all[1].op``), if any."""
    m = _PATH.search(message)
    return m.group(1).rstrip(".") if m else None


# -- status -------------------------------------------------------------------------------
@dataclass(frozen=True)
class ProjectStatus:
    project: str
    customers: int | None
    revenue_365d: float | None
    latest_run: dict[str, Any] | None
    segments: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def project_status(project: Project) -> ProjectStatus:
    """Customers and their revenue over the last year at the last run, and that run."""
    from segmint.runs import TRAITS, runs

    eng = project.engine
    customers = revenue = None
    if eng.has_table(TRAITS):
        t = eng.table(TRAITS)
        customers = int(t.count().execute())
        if "spend_365d" in t.columns:
            value = t.spend_365d.sum().execute()
            revenue = None if value is None or value != value else round(float(value), 2)
    done = [r for r in runs(eng, limit=50) if r["status"] == "succeeded"]
    return ProjectStatus(
        project=project.config.name,
        customers=customers,
        revenue_365d=revenue,
        latest_run=done[0] if done else None,
        segments=len(project.config.segments),
    )


def run_detail(project: Project, run_id: str) -> dict[str, Any]:
    """One run's record, the sizes of its segments and its model cards."""
    from segmint.runs import RUNS, model_cards, segment_results
    from segmint.segments._parse import did_you_mean

    eng = project.engine
    rows = []
    if eng.has_table(RUNS):
        r = eng.table(RUNS)
        rows = r.filter(r.run_id == run_id).to_pyarrow().to_pylist()
    if not rows:
        from segmint.runs import runs

        known = [x["run_id"] for x in runs(eng, limit=50)]
        raise SegmentNotFoundError(f"no run {run_id!r}{did_you_mean(run_id, known)}")
    sizes = segment_results(eng, run_id) if rows[0]["status"] == "succeeded" else {}
    return {
        **rows[0],
        "segment_sizes": [{"segment": k, **asdict(v)} for k, v in sizes.items()],
        "models": [c.get("model") for c in model_cards(eng, run_id)],
    }


def load_reports(project: Project, *, limit: int = 50) -> list[dict[str, Any]]:
    """The latest loads, newest first (quarantine reasons and examples in ``report``)."""
    import ibis

    eng = project.engine
    if not eng.has_table("loads"):
        return []
    t = eng.table("loads").order_by(ibis.desc("loaded_at")).limit(limit)
    out = []
    for row in t.to_pyarrow().to_pylist():
        report = row.pop("report", None)
        detail = json.loads(report) if report else {}
        row["reasons"] = detail.get("reasons", {}) if isinstance(detail, dict) else {}
        out.append(row)
    return out


# -- segments -----------------------------------------------------------------------------
def segment_list(project: Project) -> list[dict[str, Any]]:
    """Every segment with its last size; ``evaluated`` is False for a definition saved
    after the last run (the next run evaluates it)."""
    from segmint import service

    return [{**s.to_dict(), "evaluated": s.size is not None} for s in service.segments(project)]


_DEFINITION: TypeAdapter[Any] | None = None


def parse_definition(data: Any) -> SegmentDefinition:
    """One segment definition (``name``, ``description``, ``rule``), errors with paths."""
    global _DEFINITION
    from segmint.segments import SegmentDefinition
    from segmint.segments._parse import format_errors, format_path

    if _DEFINITION is None:
        _DEFINITION = TypeAdapter(SegmentDefinition)
    try:
        return _DEFINITION.validate_python(data)
    except ValidationError as e:
        first = e.errors(include_url=False)[0]
        raise DefinitionError(
            format_errors(e, SegmentDefinition, prefix=""), format_path("", tuple(first["loc"]))
        ) from None


def parse_rule(data: Any) -> Any:
    from segmint.segments import parse_rule as parse

    try:
        return parse(data)
    except ConfigError as e:
        raise DefinitionError(str(e)) from None


def check_definition(project: Project, definition: SegmentDefinition) -> None:
    """Check a definition against the project: fields, activity tables, segments it uses."""
    from segmint.segments._checks import RuleCatalog, check_rule

    fields = {f["name"]: f["type"] for f in rule_fields(project)}
    activities = {}
    for name in _activity_tables(project):
        schema = project.engine.table(name).schema()
        activities[name] = {c: str(t) for c, t in schema.items()} | {"_time": "timestamp"}
    known = {s.name for s in project.config.segments} | {s["name"] for s in segment_list(project)}
    catalog = RuleCatalog(fields=fields, activities=activities, segments=known)
    problems = check_rule(definition.rule, catalog)
    if problems:
        raise DefinitionError("\n".join(problems))


def _activity_tables(project: Project) -> Iterator[str]:
    from segmint.segments._rules import ACTIVITY_TABLES

    return (t for t in ACTIVITY_TABLES if project.engine.has_table(t))


def save_segment(
    project: Project, definition: SegmentDefinition, *, replace: str | None = None
) -> None:
    """Add a segment to ``segmint.yaml`` (or replace the one named ``replace``)."""
    from segmint.segments import parse_segments
    from segmint.segments._parse import did_you_mean

    current = list(project.config.segments)
    names = [s.name for s in current]
    if replace is None:
        if definition.name in names:
            raise DefinitionError(
                f"a segment named {definition.name!r} exists already at name; "
                "choose another name or update it (PUT)",
                "name",
            )
        current.append(definition)
    else:
        if replace not in names:
            raise SegmentNotFoundError(f"no rule segment {replace!r}{did_you_mean(replace, names)}")
        if definition.name != replace and definition.name in names:
            raise DefinitionError(f"a segment named {definition.name!r} exists already", "name")
        current[names.index(replace)] = definition
    dumped = [s.model_dump(mode="json", by_alias=True, exclude_defaults=True) for s in current]
    project.config.segments = parse_segments(dumped)
    project.save()


def delete_segment(project: Project, name: str) -> None:
    """Remove a rule segment from ``segmint.yaml`` (refused while another one uses it)."""
    from segmint.segments._checks import walk
    from segmint.segments._parse import did_you_mean
    from segmint.segments._rules import InSegment

    names = [s.name for s in project.config.segments]
    if name not in names:
        raise SegmentNotFoundError(f"no rule segment {name!r}{did_you_mean(name, names)}")
    users = [
        s.name
        for s in project.config.segments
        if any(isinstance(c, InSegment) and c.in_segment == name for _, c in walk(s.rule))
    ]
    if users:
        raise ConfigError(
            f"segment {name!r} is used by {', '.join(users)}: change or delete those first"
        )
    project.config.segments = [s for s in project.config.segments if s.name != name]
    project.save()


# -- members ------------------------------------------------------------------------------
_DISPLAY = ("first_name", "last_name", "company_name", "city", "region", "country")
_VALUES = ("recency_days", "frequency", "monetary", "clv", "lead_score", "value_tier")


def members_page(
    project: Project,
    segment: str,
    *,
    offset: int = 0,
    limit: int = 50,
    q: str | None = None,
) -> dict[str, Any]:
    """A page of a segment's members at the last run (sorted by customer id), with a name,
    a place and a few value traits each; ``q`` keeps ids starting with it and names
    containing it (case-insensitive)."""
    from segmint.runs import TRAITS, current_members

    eng = project.engine
    cur = current_members(eng)
    if cur is None:
        raise ConfigError("no run yet: run 'segmint run' first")
    _known_segment(project, segment)
    m = cur.filter(cur.segment == segment).select("customer_id")
    if eng.has_table("customers"):
        c = eng.table("customers")
        cols = [x for x in _DISPLAY if x in c.columns]
        people = c.select("customer_id", *cols).distinct(on="customer_id", keep="first")
        m = m.left_join(people, "customer_id").select(m.customer_id, *cols)
    if eng.has_table(TRAITS):
        t = eng.table(TRAITS)
        vals = [x for x in _VALUES if x in t.columns]
        m = m.left_join(t.select("customer_id", *vals), "customer_id").select(
            *m.columns, *(t[v] for v in vals)
        )
    if q:
        text = q.lower()
        cond = m.customer_id.startswith(q)
        for col in ("first_name", "last_name", "company_name"):
            if col in m.columns:
                cond = cond | m[col].lower().contains(text)
        m = m.filter(cond)
    total = int(m.count().execute())
    page = m.order_by("customer_id").limit(limit, offset=offset) if limit else m.limit(0)
    rows = page.to_pyarrow().to_pylist()
    for r in rows:
        for k, v in r.items():
            if isinstance(v, float) and v != v:
                r[k] = None
    return {"segment": segment, "total": total, "offset": offset, "limit": limit, "items": rows}


def _known_segment(project: Project, segment: str) -> None:
    from segmint.segments._parse import did_you_mean

    known = {s["name"] for s in segment_list(project)}
    if segment not in known:
        raise SegmentNotFoundError(f"no segment {segment!r}{did_you_mean(segment, known)}")


def members_csv(project: Project, segment: str) -> Iterator[str]:
    """A segment's members at the last run as CSV lines: customer id and value traits only.

    No names or contact details: personal data leaves segmint through an export, where
    consent and suppression are enforced.
    """
    import csv
    import io

    from segmint import service
    from segmint.runs import TRAITS

    _known_segment(project, segment)
    ids = service.members(project, segment, limit=None)
    eng = project.engine
    vals: list[str] = []
    traits: dict[str, dict[str, Any]] = {}
    if eng.has_table(TRAITS):
        t = eng.table(TRAITS)
        vals = [x for x in _VALUES if x in t.columns]
        cur = t.select("customer_id", *vals).filter(t.customer_id.isin(ids))
        traits = {r["customer_id"]: r for r in cur.to_pyarrow().to_pylist()}
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["customer_id", "segment", *vals])
    yield buf.getvalue()
    for i in ids:
        buf.seek(0)
        buf.truncate()
        row = traits.get(i, {})
        w.writerow([i, segment, *("" if row.get(v) is None else row[v] for v in vals)])
        yield buf.getvalue()


# -- fields -------------------------------------------------------------------------------
def rule_fields(project: Project) -> list[dict[str, Any]]:
    """What a rule's ``field`` may name: customer attributes and the traits of the last run
    (model scores and family columns included), with type, type family and fitting ops."""
    from segmint.runs import TRAITS
    from segmint.segments._checks import type_family
    from segmint.segments._rules import OPS_BY_FAMILY
    from segmint.traits._attributes import attribute_fields

    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for name, dtype in attribute_fields().items():
        seen.add(name)
        fam = type_family(dtype)
        out.append(
            {"name": name, "source": "attribute", "type": dtype, "family": fam,
             "ops": list(OPS_BY_FAMILY[fam])}
        )  # fmt: skip
    eng = project.engine
    if eng.has_table(TRAITS):
        for name, dtype in eng.table(TRAITS).schema().items():
            if name in seen or name in _RUN_COLUMNS:
                continue
            fam = type_family(str(dtype))
            out.append(
                {"name": name, "source": "trait", "type": str(dtype), "family": fam,
                 "ops": list(OPS_BY_FAMILY[fam])}
            )  # fmt: skip
    return out
