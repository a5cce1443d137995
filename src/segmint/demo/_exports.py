"""Write the demo tables as the messy exports Nordic systems produce, with planted bad rows.

Each file is written the way its system would: the CRM and ERP in Windows-1252 with
``;``, Danish headers, day-first dates and decimal commas; the Swedish email tool in
UTF-8 with a byte-order mark; web analytics as JSON lines; the Norwegian consent
platform and the survey tool as Excel workbooks.  A handful of deliberately broken rows
is added to some files, each with exactly one problem, and reported per file with its
spreadsheet row number (header = 1) and a reason code, so ingest can be checked to
quarantine exactly those.

Every generated row is in the files: loading them gives back the generated tables,
except ``event_id`` and ``response_id`` (the files carry no key; ingest derives one from
the content) and the planted bad rows.  Service tickets, which no listed export holds,
go to ``kundeservice.csv`` with the datamodel's own field names as headers.

The retailer's webshop exports its own account list, ``webshop_konti.csv`` (UTF-8, ``;``):
a second source of ``customers`` whose emails and phones are the CRM's written another
way (``ANNA.JENSEN@GMAIL.COM``, `` anna.jensen@gmail.com ``, ``+45 20 12 34 56``), so
identity resolution has something to normalise and link.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from segmint.demo import _arrow as ax
from segmint.demo import _formats as fmt
from segmint.demo._generator import DemoData
from segmint.demo._wallet import SURVEY_COLUMN
from segmint.demo._writers import (
    CSV_BATCH,
    BadRow,
    ExportFile,
    fresh_ids,
    plain,
    row_values,
    strings,
    write_csv,
    write_xlsx,
)


def write_exports(data: DemoData, folder: Path, seed: int = 0) -> list[ExportFile]:
    """Write every table of ``data`` as export files into ``folder``.

    Parameters
    ----------
    data
        The output of :func:`segmint.demo.generate`.
    folder
        Created if missing; existing files of the same names are overwritten.
    seed
        Decides the phone number styles and where the bad rows go.

    Returns
    -------
    list[ExportFile]
        One entry per file, in a sensible load order (customers first).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([seed, 7])
    t = data.tables
    b2b = data.truth.get("scenario") == "b2b"
    out: list[ExportFile] = []
    if b2b:
        out.append(_companies(rng, t["customers"], folder))
        out.append(_contacts(rng, t["contacts"], folder))
    else:
        out.append(_people(rng, t["customers"], folder))
        if data.accounts is not None:
            # its own stream: the other files stay as they were before the webshop existed
            out.append(_webshop(np.random.default_rng([seed, 8]), data.accounts, folder))
    out.append(_orders(rng, t["transactions"], folder))
    out.extend(_events(t["events"], folder))
    out.extend(_consents(rng, t["consents"], folder))
    out.extend(_survey(t["survey_responses"], folder))
    subs = t["subscriptions"]
    out.append(
        plain(
            folder / "abonnementer.csv",
            "subscriptions",
            "loyalty_program",
            {
                "subscription_id": subs["subscription_id"],
                "customer_id": subs["customer_id"],
                "product": subs["product"],
                "start_date": fmt.dates(subs["start_date"], "%Y-%m-%d"),
                "end_date": fmt.dates(subs["end_date"], "%Y-%m-%d"),
                "status": subs["status"],
                "monthly_amount": fmt.decimals(subs["monthly_amount"], "."),
            },
        )
    )
    camp = t["campaigns"]
    out.append(
        plain(
            folder / "kampagner.csv",
            "campaigns",
            "campaign_tool",
            {
                "campaign_id": camp["campaign_id"],
                "name": camp["name"],
                "channel": camp["channel"],
                "start_date": fmt.dates(camp["start_date"], "%Y-%m-%d"),
                "end_date": fmt.dates(camp["end_date"], "%Y-%m-%d"),
            },
        )
    )
    cc = t["campaign_contacts"]
    out.append(
        plain(
            folder / "kampagne_kontakter.csv",
            "campaign_contacts",
            "campaign_tool_contacts",
            {
                "campaign_id": cc["campaign_id"],
                "customer_id": cc["customer_id"],
                "arm": cc["arm"],
                "contact_date": fmt.dates(cc["contact_date"], "%Y-%m-%d"),
                "responded": fmt.booleans(cc["responded"], "true", "false"),
                "response_value": fmt.decimals(cc["response_value"], "."),
            },
        )
    )
    if b2b:
        d = t["deals"]
        out.append(
            plain(
                folder / "deals.csv",
                "deals",
                "crm_deals",
                {
                    "deal_id": d["deal_id"],
                    "customer_id": d["customer_id"],
                    "contact_id": d["contact_id"],
                    "created_date": fmt.dates(d["created_date"], "%Y-%m-%d"),
                    "closed_date": fmt.dates(d["closed_date"], "%Y-%m-%d"),
                    "stage": d["stage"],
                    "amount": fmt.decimals(d["amount"], "."),
                    "product": d["product"],
                    "owner": d["owner"],
                },
            )
        )
    for name, file, source in (
        ("market_households", "marked_husstande.csv", "statistics_households"),
        ("market_companies", "marked_virksomheder.csv", "statistics_companies"),
        ("market_wallet", "marked_forbrug.csv", "statistics_spending"),
    ):
        if name in t:
            m = t[name]
            out.append(
                plain(
                    folder / file,
                    name,
                    source,
                    {
                        c: fmt.integers(m[c]) if pa.types.is_integer(m[c].type) else m[c]
                        for c in m.column_names
                    },
                )
            )
    return out


# ----------------------------------------------------------------------------- B2C / B2B


def _people(rng: np.random.Generator, c: pa.Table, folder: Path) -> ExportFile:
    cols = {
        "Kundenummer": c["customer_id"],
        "Fornavn": c["first_name"],
        "Efternavn": c["last_name"],
        "E-mail": c["email"],
        "Telefon": fmt.phones(rng, c["phone"], c["country"]),
        "Fødselsdato": fmt.dates(c["birth_date"], "%d-%m-%Y"),
        "Køn": c["gender"],
        "Adresse": c["address"],
        "Postnummer": c["postal_code"],
        "By": c["city"],
        "Region": c["region"],
        "Land": c["country"],
        "Husstand": c["household_id"],
        "Oprettet": fmt.dates(c["signup_date"], "%d-%m-%Y"),
    }
    table = strings(cols)
    n = table.num_rows
    pick = rng.choice(n, size=6, replace=n < 6)
    row = [row_values(table, int(i)) for i in pick]
    new_id = fresh_ids(c["customer_id"], 4)
    dup = int(pick[4])
    other = row_values(table, int(pick[5]))
    bad = [
        BadRow({**row[0], "Kundenummer": ""}, "missing_required"),
        BadRow(
            {**row[1], "Kundenummer": new_id[0], "E-mail": _local(row[1]["E-mail"]) + "@@mail"},
            "bad_email",
        ),
        BadRow({**row[2], "Kundenummer": new_id[1], "Fødselsdato": "31-02-1985"}, "bad_date"),
        BadRow({**row[3], "Kundenummer": new_id[2], "Telefon": "12"}, "bad_phone"),
        BadRow({**other, "Kundenummer": row[4]["Kundenummer"]}, "duplicate_key", dup + 1),
    ]
    return write_csv(
        folder / "kunder.csv", "customers", "crm", table, bad, rng, delimiter=";", encoding="cp1252"
    )


#: the webshop's phone styles, none of which the CRM export uses (slices of E.164)
_WEBSHOP_PHONE_SHAPES: dict[str, tuple[tuple[str | tuple[int, int], ...], ...]] = {
    "+45": (
        ("+45 ", (3, 5), " ", (5, 7), " ", (7, 9), " ", (9, 11)),  # +45 20 12 34 56
        ((0, 11),),  # +4520123456
        ("0045 ", (3, 11)),  # 0045 20123456
    ),
    "+46": (((0, 12),), ("0046 ", (3, 5), " ", (5, 8), " ", (8, 10), " ", (10, 12))),
    "+47": (((0, 11),), ("0047 ", (3, 6), " ", (6, 8), " ", (8, 11))),
    "+358": (((0, 13),), ("00358 ", (4, 6), " ", (6, 9), " ", (9, 13))),
}


def _webshop(rng: np.random.Generator, accounts: pa.Table, folder: Path) -> ExportFile:
    """The webshop's accounts: emails in upper, title case or padded; phones restyled."""
    email = accounts["email"].combine_chunks()
    style = pa.array(rng.integers(0, 3, len(email)).astype(np.int8))
    written = pc.choose(style, pc.utf8_upper(email), pc.utf8_title(email), ax.join(" ", email, " "))
    cols = {
        "Kunde-id": accounts["customer_id"],
        "E-mail": written,
        "Mobil": _webshop_phones(rng, accounts["phone"].combine_chunks()),
        "Fornavn": accounts["first_name"],
        "Efternavn": accounts["last_name"],
        "Oprettet": fmt.dates(accounts["signup_date"], "%Y-%m-%d"),
    }
    return write_csv(
        folder / "webshop_konti.csv",
        "customers",
        "webshop",
        strings(cols),
        [],
        rng,
        delimiter=";",
        encoding="utf-8",
    )


def _webshop_phones(rng: np.random.Generator, phones: pa.Array) -> pa.Array:
    out = pa.nulls(len(phones), pa.string())
    for code, shapes in _WEBSHOP_PHONE_SHAPES.items():
        variants = [
            ax.join(*(p if isinstance(p, str) else pc.utf8_slice_codeunits(phones, *p) for p in s))
            for s in shapes
        ]
        pick = pa.array(rng.integers(0, len(variants), len(phones)).astype(np.int8))
        styled = pc.choose(pick, *variants) if len(variants) > 1 else variants[0]
        out = pc.if_else(pc.fill_null(pc.starts_with(phones, code), False), styled, out)
    return out


def _companies(rng: np.random.Generator, c: pa.Table, folder: Path) -> ExportFile:
    cols = {
        "Kundenummer": c["customer_id"],
        "Virksomhed": c["company_name"],
        "CVR": pc.utf8_slice_codeunits(c["org_number"], 2),  # digits only, as a CRM has them
        "Branchekode": c["nace_code"],
        "Antal ansatte": fmt.integers(c["employees"]),
        "Omsætning": fmt.decimals(c["revenue"], ","),
        "Region": c["region"],
        "Postnummer": c["postal_code"],
        "By": c["city"],
        "Land": c["country"],
        "Sælger": c["owner"],
        "Kundetype": c["customer_type"],
    }
    table = strings(cols)
    n = table.num_rows
    pick = rng.choice(n, size=2, replace=n < 2)
    new_id = fresh_ids(c["customer_id"], 2)
    bad = []
    for k, i in enumerate(pick):
        row = row_values(table, int(i))
        org = row["CVR"]
        broken = org[:-1] + str((int(org[-1]) + 1 + k) % 10)
        bad.append(BadRow({**row, "Kundenummer": new_id[k], "CVR": broken}, "bad_org_number"))
    return write_csv(
        folder / "virksomheder.csv",
        "customers",
        "crm",
        table,
        bad,
        rng,
        delimiter=";",
        encoding="cp1252",
    )


def _contacts(rng: np.random.Generator, c: pa.Table, folder: Path) -> ExportFile:
    countries = pa.array(["DK"] * c.num_rows)
    phones = c["phone"].combine_chunks()
    # the company's country is not on the contact: infer it from the calling code
    for code, prefix in (("SE", "+46"), ("NO", "+47"), ("FI", "+358")):
        countries = pc.if_else(pc.starts_with(phones, prefix), code, countries)
    cols = {
        "Kontakt-id": c["contact_id"],
        "Kundenummer": c["company_id"],
        "Fornavn": c["first_name"],
        "Efternavn": c["last_name"],
        "E-mail": c["email"],
        "Telefon": fmt.phones(rng, phones, countries),
        "Titel": c["title"],
    }
    return write_csv(
        folder / "kontakter.csv",
        "contacts",
        "crm_contacts",
        strings(cols),
        [],
        rng,
        delimiter=";",
        encoding="cp1252",
    )


def _orders(rng: np.random.Generator, tx: pa.Table, folder: Path) -> ExportFile:
    cols = {
        "Ordrenummer": tx["order_id"],
        "Kundenummer": tx["customer_id"],
        "Dato": fmt.dates(tx["order_date"], "%d.%m.%Y"),
        "Varenummer": tx["product_id"],
        "Varenavn": tx["product_name"],
        "Kategori": tx["category"],
        "Antal": fmt.integers(tx["quantity"]),
        "Beløb": fmt.decimals(tx["amount"], ",", "."),
        "Valuta": tx["currency"],
        "Kanal": tx["channel"],
        "Butik": tx["store_id"],
    }
    table = strings(cols)
    n = table.num_rows
    pick = rng.choice(n, size=5, replace=n < 5)
    row = [row_values(table, int(i)) for i in pick]
    ids = fresh_ids(tx["order_id"], 5)
    bad = [
        BadRow({**row[0], "Ordrenummer": ids[0], "Beløb": "12,3,4"}, "bad_number"),
        BadRow({**row[1], "Ordrenummer": ids[1], "Beløb": "abc"}, "bad_number"),
        BadRow({**row[2], "Ordrenummer": ids[2], "Dato": "32.13.2024"}, "bad_date"),
        BadRow({**row[3], "Ordrenummer": ids[3], "Kundenummer": ""}, "missing_required"),
        BadRow({**row[4], "Ordrenummer": ids[4], "Dato": "15.06.1899"}, "implausible_date"),
    ]
    return write_csv(
        folder / "ordrer.csv",
        "transactions",
        "erp",
        table,
        bad,
        rng,
        delimiter=";",
        encoding="cp1252",
    )


def _events(ev: pa.Table, folder: Path) -> list[ExportFile]:
    kind = ev["event_type"]
    email = ev.filter(pc.starts_with(kind, "email_"))
    web = ev.filter(pc.is_in(kind, pa.array(["web_visit", "page_view"])))
    service = ev.filter(pc.equal(kind, "service_ticket"))
    other = ev.num_rows - email.num_rows - web.num_rows - service.num_rows
    if other:
        raise ValueError(f"{other} events of a type no export file holds")
    rng = np.random.default_rng(0)
    out = [
        write_csv(
            folder / "email_handelser.csv",
            "events",
            "email_tool",
            strings(
                {
                    "Kundnummer": email["customer_id"],
                    "Händelse": email["event_type"],
                    "Tidpunkt": fmt.timestamps(email["event_time"]),
                    "Kampanj": email["campaign_id"],
                    "Enhet": email["device"],
                }
            ),
            [],
            rng,
            delimiter=",",
            encoding="utf-8-sig",
        ),
    ]
    path = folder / "web.jsonl"
    with path.open("wb") as fh:
        for start in range(0, web.num_rows, CSV_BATCH):
            fh.write(_json_lines(web.slice(start, CSV_BATCH)))
    out.append(ExportFile(path, "events", "web_analytics", {}))
    out.append(
        plain(
            folder / "kundeservice.csv",
            "events",
            "customer_service",
            {
                "customer_id": service["customer_id"],
                "event_time": fmt.timestamps(service["event_time"]),
                "event_type": service["event_type"],
                "channel": service["channel"],
            },
        )
    )
    return out


def _json_lines(web: pa.Table) -> bytes:
    """Web events as JSON lines (every value is plain ASCII text: ids, ISO times, URLs)."""
    keys = ("customer_id", "event_time", "event_type", "source", "device", "url")
    parts: list[pa.Array | str] = []
    for k in keys:
        v = fmt.timestamps(web[k], sep="T") if k == "event_time" else web[k].combine_chunks()
        parts += [', "' if parts else '{"', k, '": ', pc.fill_null(ax.join('"', v, '"'), "null")]
    lines = ax.join(*parts, "}\n")
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)
    offsets = offsets[lines.offset : lines.offset + len(lines) + 1]
    data = lines.buffers()[2]
    return b"" if data is None else data.to_pybytes()[offsets[0] : offsets[-1]]


# ----------------------------------------------------------------------------- Excel


def _consents(rng: np.random.Generator, cons: pa.Table, folder: Path) -> list[ExportFile]:
    header = ["Kundenummer", "Kanal", "Samtykke", "Tidspunkt"]
    ja = pc.if_else(cons["granted"].combine_chunks(), "ja", "nei")
    columns = [
        cons["customer_id"].to_pylist(),
        cons["channel"].to_pylist(),
        ja.to_pylist(),
        cons["consent_time"].to_pylist(),
    ]
    n = cons.num_rows
    bad = []
    for k, i in enumerate(rng.choice(n, size=2, replace=n < 2)):
        values = dict(zip(header, (col[int(i)] for col in columns), strict=True))
        values["Samtykke"] = "måske"
        values["Tidspunkt"] = values["Tidspunkt"].replace(microsecond=0) + dt.timedelta(hours=1 + k)
        bad.append(BadRow(values, "bad_boolean", int(i) + 1))
    return write_xlsx(
        folder, "samtykker", "consents", "consent_platform", header, columns, bad, rng
    )


def _survey(sr: pa.Table, folder: Path) -> list[ExportFile]:
    items = [c for c in sr.column_names if c.startswith("q_")]
    items += [c for c in sr.column_names if c == SURVEY_COLUMN]
    header = ["Kundenummer", "Dato", "NPS", *items]
    columns = [
        sr["customer_id"].to_pylist(),
        sr["response_date"].to_pylist(),
        sr["nps"].to_pylist(),
        *(sr[c].to_pylist() for c in items),
    ]
    return write_xlsx(
        folder,
        "undersoegelse",
        "survey_responses",
        "survey_tool",
        header,
        columns,
        [],
        np.random.default_rng(0),
    )


def _local(email: str) -> str:
    return email.split("@")[0] if email else "anna.jensen"
