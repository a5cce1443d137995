"""CRM import files: HubSpot contacts and companies, Salesforce leads, and a mapping of
your own.

The column maps use the column headers each CRM's import tool maps to its standard
properties without manual mapping (HubSpot: the property labels of contacts and
companies; Salesforce: the Data Import Wizard's lead field labels).  The owner column is
filled from ``account_owners`` (owner assignment) or the customers' ``owner`` field, and
is left out when the store has neither.  In delta mode a ``segmint change`` column says
``entered`` or ``exited``; exited rows carry only the ids.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from segmint.activation._destination import Delivery, ExportBatch, output_path
from segmint.activation._files import mapped, write_csv

HUBSPOT_CONTACTS: dict[str, str] = {
    "Email": "email",
    "First Name": "first_name",
    "Last Name": "last_name",
    "Phone Number": "phone",
    "Company Name": "company_name",
    "Street Address": "address",
    "Postal Code": "postal_code",
    "City": "city",
    "Country/Region": "country",
    "segmint ID": "customer_id",
}
HUBSPOT_COMPANIES: dict[str, str] = {
    "Company name": "company_name",
    "Company Domain Name": "domain",
    "Phone Number": "phone",
    "Street Address": "address",
    "Postal Code": "postal_code",
    "City": "city",
    "Country/Region": "country",
    "Number of Employees": "employees",
    "Annual Revenue": "revenue",
    "segmint ID": "customer_id",
}
SALESFORCE_LEADS: dict[str, str] = {
    "First Name": "first_name",
    "Last Name": "last_name",
    "Company": "company_name",
    "Email": "email",
    "Phone": "phone",
    "Street": "address",
    "Zip/Postal Code": "postal_code",
    "City": "city",
    "Country": "country",
    "No. of Employees": "employees",
    "Annual Revenue": "revenue",
    "Lead Source": "lead_source",
    "segmint ID": "customer_id",
}
#: the owner column of each map (added when the store knows owners)
OWNER_COLUMNS = {
    "hubspot_contacts": "Contact owner",
    "hubspot_companies": "Company owner",
    "salesforce_leads": "Lead Owner",
}
MAPS = {
    "hubspot_contacts": HUBSPOT_CONTACTS,
    "hubspot_companies": HUBSPOT_COMPANIES,
    "salesforce_leads": SALESFORCE_LEADS,
}
NOT_PROVIDED = "[not provided]"  # Salesforce requires Last Name and Company on a lead


def domain_of(website: str | None, email: str | None = None) -> str | None:
    """``https://www.example.dk/about`` -> ``example.dk``; else the email's domain."""
    if website and website.strip():
        host = website.strip().lower().split("://")[-1].split("/")[0].split("?")[0]
        return host.removeprefix("www.") or None
    if email and "@" in email:
        return email.rsplit("@", 1)[1].lower() or None
    return None


def _with_derived(rows: pa.Table, kind: str) -> pa.Table:
    n = rows.num_rows
    if kind == "hubspot_companies":
        websites = (
            rows.column("website").to_pylist() if "website" in rows.column_names else [None] * n
        )
        emails = rows.column("email").to_pylist()
        rows = rows.append_column(
            "domain", pa.array([domain_of(w, e) for w, e in zip(websites, emails, strict=True)])
        )
    if kind == "salesforce_leads":
        last = pc.coalesce(rows.column("last_name"), rows.column("company_name"))
        rows = rows.set_column(
            rows.column_names.index("last_name"), "last_name", pc.fill_null(last, NOT_PROVIDED)
        )
        company = pc.fill_null(rows.column("company_name"), NOT_PROVIDED)
        rows = rows.set_column(rows.column_names.index("company_name"), "company_name", company)
        rows = rows.append_column("lead_source", pa.array(["segmint"] * n, pa.string()))
    return rows


def crm_table(batch: ExportBatch) -> pa.Table:
    """The import file's table for the batch's CRM kind."""
    kind = batch.destination.kind
    if kind == "crm_mapping":
        columns = dict(batch.destination.columns)
    else:
        columns = dict(MAPS[kind])
        if "owner" in batch.rows.column_names:
            columns[OWNER_COLUMNS[kind]] = "owner"
    rows = _with_derived(batch.rows, kind)
    if batch.mode == "delta":
        columns["segmint change"] = "change"
        exited = pc.equal(rows.column("change"), "exited")
        keep_on_exit = {"customer_id", "change"}
        rows = pa.table(
            [
                col if name in keep_on_exit else pc.if_else(exited, pa.scalar(None, col.type), col)
                for name, col in zip(rows.column_names, rows.columns, strict=True)
            ],
            names=rows.column_names,
        )
    return mapped(rows, columns, name=batch.destination.name)


class CrmFile:
    def deliver(self, batch: ExportBatch) -> Delivery:
        path = output_path(batch, ".csv")
        d = batch.destination
        write_csv(crm_table(batch), path, delimiter=d.delimiter, encoding=d.encoding)
        return Delivery(batch.rows.num_rows, str(path))
