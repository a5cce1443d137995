"""Who is in a segment, and what an export says about each member (the profile).

Members come from the snapshot of the latest successful run (one row per member: a
snapshot is distinct per run and segment).  The profile is one row per person: the
customer attributes merged across the person's records (the same merge the traits use),
stored once per run, plus the owner
(from ``account_owners``, written by owner assignment, else the customers' ``owner``
field) and the website (an extra ``website``/``domain`` column of customers) when the
store has them.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from segmint.engine import Engine
from segmint.exceptions import SegmentNotFoundError
from segmint.runs import last_successful_run
from segmint.segments import _snapshots as snapshots

ACCOUNT_OWNERS = "account_owners"
PROFILES = "export_profiles"
PROFILE_FIELDS: dict[str, str] = {
    "customer_type": "string",
    "first_name": "string",
    "last_name": "string",
    "company_name": "string",
    "email": "string",
    "phone": "string",
    "address": "string",
    "postal_code": "string",
    "city": "string",
    "region": "string",
    "country": "string",
    "org_number": "string",
    "nace_code": "string",
    "employees": "int64",
    "revenue": "float64",
}
WEBSITE_COLUMNS = ("website", "domain", "hjemmeside")


def segment_members(
    engine: Engine, segment: str, run_id: str | None = None
) -> tuple[str, ir.Table]:
    """``(run_id, members)``: the members (customer_id) of ``segment`` at the latest run."""
    run_id = run_id or last_successful_run(engine)
    if run_id is None:
        raise SegmentNotFoundError("no run yet: run 'segmint run' before exporting")
    members = snapshots.run_members(engine, run_id)
    if members is None:
        raise SegmentNotFoundError(f"the snapshot of run {run_id} is no longer stored")
    found = members.filter(members.segment == segment)
    if not int(found.limit(1).count().execute()) and not _known_segment(engine, run_id, segment):
        raise SegmentNotFoundError(f"no segment {segment!r} in run {run_id}")
    return run_id, found.select(customer_id=found.customer_id.cast("string"))


def _known_segment(engine: Engine, run_id: str, segment: str) -> bool:
    s = engine.table(snapshots.SIZES)
    return bool(int(s.filter((s.run_id == run_id) & (s.segment == segment)).count().execute()))


def _persons(engine: Engine) -> ir.Table:
    from segmint.traits._activity import person_map

    return person_map(engine)


def profiles(engine: Engine, run_id: str) -> ir.Table:
    """One row per person: ``customer_id`` (the person id) and the profile fields.

    The merged attributes are stored once per run in ``export_profiles`` (the first export
    after a run builds them; every later export of that run reads them), so the contact
    data an export sends is as of the run its members come from.  Owners are read at
    export time (owner assignment may run after the run).
    """
    out = _stored_profiles(engine, run_id)
    owner = _owners(engine, out)
    out = out.drop("_owner_field")
    if owner is not None:
        out = out.left_join(owner, out.customer_id == owner._pid).drop("_pid")
    return out


def _stored_profiles(engine: Engine, run_id: str) -> ir.Table:
    if engine.has_table(PROFILES):
        t = engine.table(PROFILES)
        if int(t.filter(t._run_id == run_id).limit(1).count().execute()):
            return t.filter(t._run_id == run_id).drop("_run_id")
    from segmint.traits._attributes import customer_attributes

    base = customer_attributes(engine)
    cols: dict[str, ir.Value] = {"customer_id": base.customer_id.cast("string")}
    for name, dtype in PROFILE_FIELDS.items():
        cols[name] = base[name].cast(dtype) if name in base.columns else ibis.null().cast(dtype)
    cols["_owner_field"] = (
        base.owner.cast("string") if "owner" in base.columns else ibis.null("string")
    )
    out = base.select(**cols)
    website = _websites(engine)
    if website is not None:
        out = out.left_join(website, out.customer_id == website._wid).drop("_wid")
    engine.write(PROFILES, out.mutate(_run_id=ibis.literal(run_id, type="string")))
    return engine.table(PROFILES).drop("_run_id")


def _owners(engine: Engine, base: ir.Table) -> ir.Table | None:
    """``(_pid, owner)``: account_owners first, else the customers' owner field."""
    parts = []
    if engine.has_table(ACCOUNT_OWNERS):
        ao = engine.table(ACCOUNT_OWNERS)
        key = next((k for k in ("customer_id", "account_id", "person_id") if k in ao.columns), None)
        if key is None or "owner" not in ao.columns:
            from segmint.exceptions import ConfigError

            raise ConfigError(
                f"table {ACCOUNT_OWNERS!r} needs columns customer_id (or account_id) and owner; "
                f"it has {', '.join(ao.columns)}"
            )
        persons = _persons(engine)
        ids = ao.left_join(persons, ao[key].cast("string") == persons.customer_id)
        ids = ids.select(
            _pid=ibis.coalesce(ids.person_id, ids[key].cast("string")),
            owner=ids.owner.cast("string"),
        )
        parts.append(ids.group_by("_pid").agg(owner=ids.owner.min()))
    if "_owner_field" in base.columns:
        raw = engine.table("customers") if engine.has_table("customers") else None
        has_any = (
            raw is not None
            and "owner" in raw.columns
            and int(raw.filter(raw.owner.notnull()).limit(1).count().execute())
        )
        if has_any or parts:
            parts.append(base.select(_pid=base.customer_id, owner=base._owner_field))
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    first, second = parts
    second = second.rename(_pid2="_pid", owner2="owner")
    joined = second.left_join(first, second._pid2 == first._pid)
    return joined.select(_pid=joined._pid2, owner=ibis.coalesce(joined.owner, joined.owner2))


def _websites(engine: Engine) -> ir.Table | None:
    if not engine.has_table("customers"):
        return None
    customers = engine.table("customers")
    col = next((c for c in WEBSITE_COLUMNS if c in customers.columns), None)
    if col is None:
        return None
    persons = _persons(engine)
    j = customers.left_join(persons, customers.customer_id.cast("string") == persons.customer_id)
    j = j.select(
        _wid=ibis.coalesce(j.person_id, j.customer_id.cast("string")), website=j[col].cast("string")
    )
    return j.group_by("_wid").agg(website=j.website.max())
