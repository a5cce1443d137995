"""Ad audience files: LinkedIn company and contact lists, Meta and Google customer lists.

LinkedIn's matched-audience templates take company name, website, email domain and
country (companies) or email, names, company and country (contacts), in clear: LinkedIn
hashes on upload.  Meta and Google get identifiers normalised and SHA-256 hashed per
their published rules (:mod:`segmint.activation._hashing`); a member without an email,
a phone or both names is left out (nothing to match on).

Full mode writes one file.  Delta mode writes ``<name>-add.csv`` (entered) and
``<name>-remove.csv`` (exited: the identifiers to take out of the audience).  Files are
UTF-8 with a comma, as the platforms require.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from segmint.activation import _hashing as h
from segmint.activation._crm import domain_of
from segmint.activation._destination import Delivery, ExportBatch, output_path
from segmint.activation._files import write_csv

#: freemail domains are no company's domain
FREEMAIL = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "hotmail.com",
        "hotmail.dk",
        "outlook.com",
        "outlook.dk",
        "live.dk",
        "live.com",
        "yahoo.com",
        "yahoo.dk",
        "icloud.com",
        "me.com",
        "mail.dk",
        "jubii.dk",
        "ofir.dk",
        "msn.com",
        "aol.com",
        "protonmail.com",
        "proton.me",
        "gmx.com",
    }
)

Row = dict[str, Any]


def _get(r: Row, key: str) -> Any:
    value = r.get(key)
    return None if value is None else str(value)


def linkedin_company_row(r: Row, country: str) -> Row:
    email = _get(r, "email")
    email_domain = email.rsplit("@", 1)[1].lower() if email and "@" in email else None
    return {
        "companyname": _get(r, "company_name"),
        "companywebsite": domain_of(_get(r, "website")),
        "companyemaildomain": None if email_domain in FREEMAIL else email_domain,
        "companycountry": _get(r, "country") or country,
    }


def linkedin_contact_row(r: Row, country: str) -> Row:
    return {
        "email": h.email(_get(r, "email")),
        "firstname": _get(r, "first_name"),
        "lastname": _get(r, "last_name"),
        "employeecompany": _get(r, "company_name"),
        "country": _get(r, "country") or country,
    }


BUILDERS: dict[str, tuple[Callable[[Row, str], Row], tuple[str, ...]]] = {
    "linkedin_companies": (
        linkedin_company_row,
        ("companyname", "companywebsite", "companyemaildomain", "companycountry"),
    ),
    "linkedin_contacts": (
        linkedin_contact_row,
        ("email", "firstname", "lastname", "employeecompany", "country"),
    ),
}
HASHED = {"meta_audience": h.META_SQL, "google_audience": h.GOOGLE_SQL}
_E164 = r"^\+[1-9][0-9]{5,14}$"


def _prepared(rows: pa.Table, country: str) -> pa.Table:
    """The columns the hashing SQL reads: phones in E.164 (the store keeps them so; others
    are parsed one by one with phonenumbers), the country code or the default."""
    n = rows.num_rows

    def col(name: str) -> pa.Array | pa.ChunkedArray:
        return (
            rows.column(name).cast(pa.string())
            if name in rows.column_names
            else pa.nulls(n, pa.string())
        )

    cc = pc.utf8_upper(pc.utf8_trim_whitespace(col("country")))
    cc = pc.fill_null(
        pc.if_else(pc.equal(cc, ""), pa.scalar(None, pa.string()), cc), country.upper()
    )
    phone = col("phone")
    ok = pc.fill_null(pc.match_substring_regex(phone, _E164), True)
    if not pc.all(ok).as_py():
        values, where = phone.to_pylist(), cc.to_pylist()
        fixed = [
            v if good else h.e164(v, c)
            for v, good, c in zip(values, ok.to_pylist(), where, strict=True)
        ]
        phone = pa.array(fixed, pa.string())
    return pa.table(
        {
            "email": col("email"),
            "phone": phone,
            "first_name": col("first_name"),
            "last_name": col("last_name"),
            "postal_code": col("postal_code"),
            "city": col("city"),
            "cc": cc,
        }
    )


def hashed_table(rows: pa.Table, kind: str, country: str = "DK") -> pa.Table:
    """Meta or Google file for ``rows``: the rules of :mod:`segmint.activation._hashing`,
    applied as one SQL statement in a private in-memory DuckDB (vectorised; the rows
    never touch the store)."""
    import duckdb

    con = duckdb.connect()
    try:
        con.register("r", _prepared(rows, country))
        out = con.execute(HASHED[kind]).to_arrow_table()
    finally:
        con.close()
    first, second = out.column_names[0], out.column_names[1]
    fn, ln = out.column_names[2], out.column_names[3]
    usable = pc.or_(
        pc.or_(pc.is_valid(out.column(first)), pc.is_valid(out.column(second))),
        pc.and_(pc.is_valid(out.column(fn)), pc.is_valid(out.column(ln))),
    )
    return out.filter(usable)


def audience_table(rows: pa.Table, kind: str, country: str = "DK") -> pa.Table:
    """The platform's file for ``rows``: one line per member with anything to match on."""
    if kind in HASHED:
        return hashed_table(rows, kind, country)
    build, header = BUILDERS[kind]
    out = [build(r, country) for r in rows.to_pylist()]
    out = [r for r in out if any(v is not None for v in r.values())]
    return pa.table({c: pa.array([r[c] for r in out], pa.string()) for c in header})


class AudienceFile:
    def deliver(self, batch: ExportBatch) -> Delivery:
        d = batch.destination
        if batch.mode == "full":
            path = output_path(batch, ".csv")
            write_csv(audience_table(batch.rows, d.kind, d.default_country), path)
            return Delivery(batch.rows.num_rows, str(path))
        change = batch.rows.column("change")
        paths = []
        for name, which in (("add", "entered"), ("remove", "exited")):
            part = batch.rows.filter(pc.equal(change, which))
            path = output_path(batch, ".csv", name)
            write_csv(audience_table(part, d.kind, d.default_country), path)
            paths.append(str(path))
        return Delivery(batch.rows.num_rows, " ".join(paths))
