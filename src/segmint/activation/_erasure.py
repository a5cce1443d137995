"""Erasure: ``segmint forget ID`` removes a person from every table of the store.

The person is the customer id given plus every customer id identity resolution merged
with it (and, for a contact id, the contact's merged ids).  Their identifiers (ids,
emails, phones, org and personal numbers) are read from their records first.  Then, in
one transaction (a failure leaves the store as it was):

* every table with a person-id column (:data:`PERSON_COLUMNS`) loses the person's rows,
  whatever module made the table: data, identities, snapshots, deltas, traits, model
  outputs, destination memberships and pending webhook batches alike;
* a reference to the person in another party's record (the contact a company's deal was
  opened with, :data:`NULLED_REFERENCES`) is set to null; the record stays;
* rows elsewhere that carry an identifier in a text cell (a quarantined raw record, an
  audit entry) are deleted, except in the logs of :data:`SCRUBBED_TABLES`, where the
  identifier is replaced by ``[erased]``;
* the erasure is recorded in ``erasures`` with salted SHA-256 hashes of the identifiers
  (``erasure_hashes``), never the identifiers themselves, so a later load of the same
  person can be flagged (:func:`reloaded`) without keeping who it was.

After the store has committed, the CSV files segmint wrote into the project for people to
act on (the next-best-action plans, ``folders``) lose the person's rows too: each file is
rewritten beside itself and swapped in with ``os.replace``, so a reader sees the old file or
the new one, never half of one.

What segmint already sent elsewhere (files, CRMs, audiences, webhooks) is outside the
store: the report names the destinations that held the person, to be told separately.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa

from segmint.engine import Engine
from segmint.exceptions import CustomerNotFoundError, EngineError

#: columns that hold a person (or company) id, in any table of the store
PERSON_COLUMNS = (
    "customer_id",
    "person_id",
    "contact_id",
    "company_id",
    "linked_customer_id",
    "contact_person_id",
    "company_person_id",
    "account_id",
)
IDENTIFIER_COLUMNS = ("email", "phone", "org_number", "personal_number")
ERASURES = "erasures"
ERASURE_HASHES = "erasure_hashes"
SALT = "erasure_salt"
OWN_TABLES = frozenset({ERASURES, ERASURE_HASHES, SALT})
#: references to a person in another party's record: the record stays, the reference goes
#: (a deal is the company's, the contact it was opened with is a person)
NULLED_REFERENCES = frozenset({("deals", "contact_id")})
#: logs whose rows are kept, with the identifier replaced
SCRUBBED_TABLES = frozenset({"loads", "runs", "model_cards", "export_log"})
ERASED = "[erased]"


@dataclass
class ErasureReport:
    """What one erasure removed (counts only)."""

    erasure_id: str
    erased_at: datetime
    actor: str
    customer_ids: int
    rows_removed: dict[str, int] = field(default_factory=dict)
    cells_scrubbed: dict[str, int] = field(default_factory=dict)
    destinations: list[str] = field(default_factory=list)
    files_scrubbed: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _salt(engine: Engine) -> str:
    if engine.has_table(SALT):
        return str(engine.table(SALT).salt.to_pyarrow().to_pylist()[0])
    salt = secrets.token_hex(16)
    engine.write(SALT, pa.table({"salt": [salt]}))
    return salt


def identifier_hash(salt: str, kind: str, value: str) -> str:
    return hashlib.sha256(f"{salt}{kind}:{value}".encode()).hexdigest()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _person_ids(engine: Engine, given: str) -> set[str]:
    ids = {given}
    if engine.has_table("identities"):
        t = engine.table("identities")
        pid = t.filter(
            (t.customer_id.cast("string") == given) | (t.person_id.cast("string") == given)
        )
        persons = set(pid.person_id.cast("string").to_pyarrow().to_pylist())
        if persons:
            same = t.filter(t.person_id.cast("string").isin(list(persons)))
            ids |= persons | set(same.customer_id.cast("string").to_pyarrow().to_pylist())
    if engine.has_table("contact_identities"):
        t = engine.table("contact_identities")
        cols = t.columns
        if "contact_person_id" in cols:
            hit = t.filter(
                (t.contact_id.cast("string") == given)
                | (t.contact_person_id.cast("string") == given)
            )
            persons = set(hit.contact_person_id.cast("string").to_pyarrow().to_pylist())
            if persons:
                same = t.filter(t.contact_person_id.cast("string").isin(list(persons)))
                ids |= persons | set(same.contact_id.cast("string").to_pyarrow().to_pylist())
    return ids


def _identifiers(engine: Engine, ids: set[str]) -> dict[str, set[str]]:
    """Emails, phones, org and personal numbers on the person's records."""
    found: dict[str, set[str]] = {k: set() for k in IDENTIFIER_COLUMNS}
    for table, key in (("customers", "customer_id"), ("contacts", "contact_id")):
        if not engine.has_table(table):
            continue
        t = engine.table(table)
        mine = t.filter(t[key].cast("string").isin(sorted(ids)))
        for col in IDENTIFIER_COLUMNS:
            if col in t.columns:
                found[col] |= {str(v) for v in mine[col].to_pyarrow().to_pylist() if v}
    return found


def _base_tables(engine: Engine) -> list[str]:
    """The stored tables (views show what the tables hold; temporary ones are a process's)."""
    rows = engine.con.con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
        "AND table_catalog = current_database() AND table_schema = 'main' ORDER BY 1"
    ).fetchall()
    return [str(r[0]) for r in rows]


def _string_columns(engine: Engine, table: str) -> list[str]:
    schema = engine.table(table).schema()
    return [c for c, t in schema.items() if t.is_string()]


def forget(
    engine: Engine,
    customer_id: str,
    *,
    actor: str,
    now: datetime | None = None,
    folders: Sequence[Path] = (),
) -> ErasureReport:
    """Erase the person of ``customer_id`` from every table, then from the CSV files under
    ``folders``; see the module docstring.

    Raises
    ------
    CustomerNotFoundError
        No table of the store holds that id.
    """
    if engine.name != "duckdb":
        raise EngineError(
            f"segmint forget needs the DuckDB engine (it deletes inside a transaction); "
            f"this project uses {engine.name}"
        )
    con = engine.con.con  # DuckDB: DELETE and UPDATE are SQL statements
    when = (now or datetime.now(UTC)).replace(tzinfo=None)
    ids = _person_ids(engine, str(customer_id))
    idents = _identifiers(engine, ids)
    tokens = sorted({v for vs in idents.values() for v in vs})
    id_list = sorted(ids)
    tables = [t for t in _base_tables(engine) if t not in OWN_TABLES]
    tables.sort(key=lambda t: t in SCRUBBED_TABLES)  # logs last: they quote what others held
    report = ErasureReport(uuid.uuid4().hex[:12], when, actor, len(ids))
    # JSON records (quarantine) name the person by their ids under an id key
    id_patterns = [f'"{c}": "{i}"' for c in PERSON_COLUMNS for i in id_list]
    id_patterns += [f'"{c}":"{i}"' for c in PERSON_COLUMNS for i in id_list]
    scrub: set[str] = set()
    with engine.transaction():
        if engine.has_table("destination_members"):
            m = engine.table("destination_members")
            held = m.filter(m.customer_id.isin(id_list)).destination.to_pyarrow().to_pylist()
            report.destinations = sorted(set(held))
        for table in tables:
            q = _quote(table)
            cols = engine.table(table).columns
            for c in [c for c in cols if (table, c) in NULLED_REFERENCES]:
                hit = f"CAST({_quote(c)} AS VARCHAR) IN (SELECT unnest(?))"
                n = con.execute(f"SELECT count(*) FROM {q} WHERE {hit}", [id_list]).fetchone()[0]
                if n:
                    con.execute(f"UPDATE {q} SET {_quote(c)} = NULL WHERE {hit}", [id_list])
                    report.cells_scrubbed[table] = int(n)
            person_cols = [
                c for c in cols if c in PERSON_COLUMNS and (table, c) not in NULLED_REFERENCES
            ]
            texts = [c for c in _string_columns(engine, table) if c not in person_cols]
            conds: list[str] = []
            params: list[str | list[str]] = []
            for c in person_cols:
                conds.append(f"CAST({_quote(c)} AS VARCHAR) IN (SELECT unnest(?))")
                params.append(id_list)
            if table not in SCRUBBED_TABLES:
                for c in texts:
                    for tok in [*tokens, *id_patterns]:
                        conds.append(f"contains({_quote(c)}, ?)")
                        params.append(tok)
            removed = 0
            if conds:
                where = " OR ".join(conds)
                removed = con.execute(f"SELECT count(*) FROM {q} WHERE {where}", params).fetchone()[
                    0
                ]
                if removed and "value" in texts:  # a quarantined value is quoted in load reports
                    quoted = con.execute(f"SELECT DISTINCT value FROM {q} WHERE {where}", params)
                    scrub |= {str(r[0]) for r in quoted.fetchall() if r[0] and len(str(r[0])) > 3}
                if removed:
                    con.execute(f"DELETE FROM {q} WHERE {where}", params)
                    report.rows_removed[table] = int(removed)
            if table in SCRUBBED_TABLES:
                scrubbed = 0
                for c in texts:
                    for tok in sorted({*tokens, *id_list, *scrub}, key=len, reverse=True):
                        n = con.execute(
                            f"SELECT count(*) FROM {q} WHERE contains({_quote(c)}, ?)", [tok]
                        ).fetchone()[0]
                        if n:
                            con.execute(
                                f"UPDATE {q} SET {_quote(c)} = replace({_quote(c)}, ?, ?) "
                                f"WHERE contains({_quote(c)}, ?)",
                                [tok, ERASED, tok],
                            )
                            scrubbed += int(n)
                if scrubbed:
                    report.cells_scrubbed[table] = scrubbed
        if not report.rows_removed:
            raise CustomerNotFoundError(f"no customer {customer_id!r} in the store")
        salt = _salt(engine)
        hashes = {identifier_hash(salt, "id", i) for i in id_list}
        for kind, values in idents.items():
            hashes |= {identifier_hash(salt, kind, v) for v in values}
        engine.append(
            ERASURE_HASHES,
            pa.table({"erasure_id": [report.erasure_id] * len(hashes), "hash": sorted(hashes)}),
        )
        engine.append(
            ERASURES,
            pa.table(
                {
                    "erasure_id": [report.erasure_id],
                    "erased_at": pa.array([when], pa.timestamp("us")),
                    "actor": [actor],
                    "customer_ids": [len(ids)],
                    "rows_removed": [json.dumps(report.rows_removed, sort_keys=True)],
                    "destinations": [json.dumps(report.destinations)],
                }
            ),
        )
    for folder in folders:
        for path in sorted(Path(folder).rglob("*.csv")):
            removed = erase_from_csv(path, ids)
            if removed:
                report.files_scrubbed[str(path)] = removed
    return report


def erase_from_csv(path: Path, ids: set[str]) -> int:
    """Drop the rows of ``path`` whose person-id columns hold one of ``ids``; how many.

    Files without a person-id column are left alone.  The file is rewritten next to itself
    (same delimiter and line ending as pandas wrote it) and swapped in atomically.
    """
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if not rows:
        return 0
    header, body = rows[0], rows[1:]
    keys = [i for i, c in enumerate(header) if c in PERSON_COLUMNS]
    if not keys:
        return 0
    kept = [r for r in body if not any(i < len(r) and r[i] in ids for i in keys)]
    if len(kept) == len(body):
        return 0
    tmp = path.with_name(f".{path.name}.erasing")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(kept)
    os.replace(tmp, path)
    return len(body) - len(kept)


def reloaded(engine: Engine, table: str, load_id: str | None = None) -> int:
    """Rows of ``table`` (of load ``load_id`` only, when given) whose id, email, phone, org
    or personal number belongs to an erased person: loaded again after ``segmint forget``."""
    if not engine.has_table(ERASURE_HASHES) or not engine.has_table(table):
        return 0
    salt = _salt(engine)
    t = engine.table(table)
    if (
        load_id is not None
        and engine.has_table("loads")
        and {"_source", "_loaded_at"} <= set(t.columns)
    ):
        loads = engine.table("loads")
        this = loads.filter(loads.load_id == load_id).select("source", "loaded_at")
        t = t.semi_join(this, [t._source == this.source, t._loaded_at == this.loaded_at])
    known = engine.table(ERASURE_HASHES).select("hash")
    hashed = []
    for col, kind in [(c, "id") for c in PERSON_COLUMNS] + [(c, c) for c in IDENTIFIER_COLUMNS]:
        if col in t.columns:
            value = ibis.literal(f"{salt}{kind}:") + t[col].cast("string")
            hashed.append(value.hexdigest("sha256").isin(known.hash))
    if not hashed:
        return 0
    hit = hashed[0]
    for h in hashed[1:]:
        hit = hit | h
    return int(t.filter(hit.fill_null(False)).count().execute())
