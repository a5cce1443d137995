"""Consent and suppression: who may be exported to a destination, and why not.

A member is suppressed, for the first reason that applies:

1. ``suppression_list:<name>``: an email, phone or org number of any of the person's
   customer records is on an opt-out list (a national register export, a complaints
   list);
2. ``do_not_contact``: a do-not-contact column of any of the person's records is set;
3. ``profiling_withdrawn``: the person's latest ``profiling`` consent is withdrawn (a
   segment is profiling, so it goes nowhere);
4. ``withdrawn:<channel>``: the latest consent for one of the destination's channels is
   withdrawn;
5. ``no_consent:<channel>``: no consent was ever granted for it (when
   ``consent.require_granted``, the default).

A person's consents are those of every customer id that identity resolution merged into
the person; for each channel the latest ``consent_time`` decides, a withdrawal winning a
tie.  All of it runs in the engine.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import ibis
import ibis.expr.types as ir

from segmint.activation._config import Channel, ConsentConfig, SuppressionList
from segmint.engine import Engine
from segmint.exceptions import InputError

TRUTHY = ("1", "true", "t", "yes", "y", "ja", "j", "x", "on")


@dataclass
class Suppressed:
    """How many members an export left out, per reason."""

    total: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)


def _persons(engine: Engine) -> ir.Table:
    from segmint.traits._activity import person_map

    return person_map(engine)


def _records(engine: Engine) -> ir.Table | None:
    """Every customer record with its person id (``_pid``)."""
    if not engine.has_table("customers"):
        return None
    customers = engine.table("customers")
    persons = _persons(engine).rename(_cid="customer_id", _pid0="person_id")
    j = customers.left_join(persons, customers.customer_id.cast("string") == persons._cid)
    return j.mutate(_pid=ibis.coalesce(j._pid0, j.customer_id.cast("string")))


def read_suppression_list(spec: SuppressionList, root: Path) -> dict[str, set[str]]:
    """``{"email": {...}, "phone": {...}, "org_number": {...}}``, normalised as ingest
    normalises the store, so equal identifiers compare equal."""
    from segmint.ingest._normalise import normalise_email, normalise_org_number, normalise_phone

    path = Path(spec.path)
    path = path if path.is_absolute() else root / path
    if not path.exists():
        raise InputError(f"suppression list {spec.name!r}: file {path} not found")
    text = path.read_bytes()
    try:
        decoded = text.decode("utf-8-sig")
    except UnicodeDecodeError:
        decoded = text.decode("cp1252")
    lines = [ln for ln in decoded.splitlines() if ln.strip()]
    out: dict[str, set[str]] = {"email": set(), "phone": set(), "org_number": set()}
    if not lines:
        return out
    dialect = (
        csv.Sniffer().sniff(lines[0], delimiters=",;\t")
        if any(d in lines[0] for d in ",;\t")
        else None
    )
    rows = list(csv.reader(lines, dialect)) if dialect else [[ln.strip()] for ln in lines]
    aliases = {"email": "email", "e-mail": "email", "mail": "email", "phone": "phone",
               "telefon": "phone", "mobil": "phone", "tlf": "phone", "org_number": "org_number",
               "cvr": "org_number", "orgnr": "org_number"}  # fmt: skip
    header = [aliases.get(c.strip().lower()) for c in rows[0]]
    if any(header):
        kinds, body, first = header, rows[1:], 2
    else:
        kinds, body, first = [None if spec.kind == "auto" else spec.kind] * len(rows[0]), rows, 1
    for i, row in enumerate(body, start=first):
        for j, raw in enumerate(row):
            value = raw.strip()
            if not value or j >= len(kinds):
                continue
            kind = kinds[j] or ("email" if "@" in value else "phone")
            if kind == "email":
                norm = normalise_email(value)
            elif kind == "phone":
                norm = normalise_phone(value, spec.default_country)
            elif kind == "org_number":
                norm = normalise_org_number(value, spec.default_country)
            else:
                continue
            if norm is None:
                raise InputError(
                    f"suppression list {spec.name!r}: {path}, row {i}: {value!r} is not a valid "
                    f"{kind}"
                )
            out[kind].add(norm)
    return out


def blocked(
    engine: Engine,
    members: ir.Table,
    channels: list[Channel],
    config: ConsentConfig,
    root: Path,
) -> ir.Table:
    """``(customer_id, reason)``: the members that may not be exported, first reason each."""
    parts: list[ir.Table] = []
    records = _records(engine)

    def part(ids: ir.Table, reason: str, priority: int) -> None:
        parts.append(
            ids.select(
                customer_id=ids.customer_id.cast("string"),
                reason=ibis.literal(reason, type="string"),
                priority=ibis.literal(priority, type="int32"),
            )
        )

    if records is not None:
        for spec in config.suppression_lists:
            values = read_suppression_list(spec, root)
            hits = []
            for key, found in values.items():
                if found and key in records.columns:
                    listed = ibis.memtable({"_v": sorted(found)}, schema={"_v": "string"})
                    hits.append(
                        records.semi_join(listed, records[key].cast("string") == listed._v).select(
                            customer_id="_pid"
                        )
                    )
            if hits:
                part(ibis.union(*hits).distinct(), f"suppression_list:{spec.name}", 1)
        for col in config.do_not_contact_columns:
            if col in records.columns:
                flag = records[col].cast("string").strip().lower().isin(TRUTHY)
                hit = records.filter(flag).select(customer_id="_pid").distinct()
                part(hit, "do_not_contact", 2)

    latest = _latest_consents(engine, [*channels, "profiling"])
    wanted = [c for c in dict.fromkeys(channels) if c != "profiling"]
    if latest is not None:
        w = latest.filter(~latest.granted)
        part(w.filter(w.channel == "profiling").select("customer_id"), "profiling_withdrawn", 3)
        for i, wanted_ch in enumerate(wanted):
            part(
                w.filter(w.channel == wanted_ch).select("customer_id"),
                f"withdrawn:{wanted_ch}",
                4 + i,
            )
    if config.require_granted:
        for i, ch in enumerate(channels):
            if latest is None:
                granted = ibis.memtable({"customer_id": []}, schema={"customer_id": "string"})
            else:
                granted = latest.filter(latest.granted & (latest.channel == ch)).select(
                    "customer_id"
                )
            part(
                members.anti_join(granted, "customer_id").select("customer_id"),
                f"no_consent:{ch}",
                20 + i,
            )
    if not parts:
        return ibis.memtable(
            {"customer_id": [], "reason": []}, schema={"customer_id": "string", "reason": "string"}
        )
    every = ibis.union(*parts).semi_join(members, "customer_id")
    first = every.group_by("customer_id").agg(reason=every.reason.argmin(every.priority))
    return first


def _latest_consents(engine: Engine, channels: list[str]) -> ir.Table | None:
    """``(customer_id = person id, channel, granted)``: each person's latest consent per
    channel (a withdrawal wins a tie)."""
    if not engine.has_table("consents"):
        return None
    c = engine.table("consents")
    c = c.filter(c.channel.cast("string").isin(sorted(set(channels))))
    persons = _persons(engine).rename(_cid="customer_id", _pid="person_id")
    j = c.left_join(persons, c.customer_id.cast("string") == persons._cid)
    j = j.select(
        customer_id=ibis.coalesce(j._pid, j.customer_id.cast("string")),
        channel=j.channel.cast("string"),
        granted=j.granted.cast("boolean").fill_null(False),
        consent_time=j.consent_time,
    )
    ranked = j.mutate(
        _rank=ibis.row_number().over(
            group_by=[j.customer_id, j.channel],
            order_by=[ibis.desc(j.consent_time), j.granted.cast("int8")],
        )
    )
    return ranked.filter(ranked._rank == 0).select("customer_id", "channel", "granted")
