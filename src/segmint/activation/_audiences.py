"""Ad audience files: LinkedIn company and contact lists, Meta and Google customer lists.

LinkedIn's matched-audience templates take company name, website, email domain and
country (companies) or email, names, company and country (contacts), in clear: LinkedIn
hashes on upload.  Meta and Google get identifiers normalised and SHA-256 hashed per
their published rules (:mod:`segmint.activation._hashing`).

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


def meta_row(r: Row, country: str) -> Row:
    return h.meta_hashes(
        email_=_get(r, "email"),
        phone=_get(r, "phone"),
        first_name=_get(r, "first_name"),
        last_name=_get(r, "last_name"),
        zip_=_get(r, "postal_code"),
        city=_get(r, "city"),
        country=_get(r, "country"),
        default_country=country,
    )


def google_row(r: Row, country: str) -> Row:
    return h.google_hashes(
        email_=_get(r, "email"),
        phone=_get(r, "phone"),
        first_name=_get(r, "first_name"),
        last_name=_get(r, "last_name"),
        zip_=_get(r, "postal_code"),
        country=_get(r, "country"),
        default_country=country,
    )


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
    "meta_audience": (meta_row, ("email", "phone", "fn", "ln", "zip", "ct", "country")),
    "google_audience": (google_row, ("Email", "Phone", "First Name", "Last Name", "Country", "Zip")),
    "linkedin_companies": (
        linkedin_company_row,
        ("companyname", "companywebsite", "companyemaildomain", "companycountry"),
    ),
    "linkedin_contacts": (
        linkedin_contact_row,
        ("email", "firstname", "lastname", "employeecompany", "country"),
    ),
}


def audience_table(rows: pa.Table, kind: str, country: str = "DK") -> pa.Table:
    """The platform's file for ``rows``: one line per member with anything to match on."""
    build, header = BUILDERS[kind]
    out = [build(r, country) for r in rows.to_pylist()]
    out = [r for r in out if any(v is not None for k, v in r.items() if k not in ("Country",))]
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
