"""The webshop's own account list, and the identity truth of every customer record.

A retailer's webshop keeps accounts of its own, with its own ids (``W000123``), next to
the CRM's customers.  Some accounts belong to CRM customers and carry the same person's
email and/or phone, written the webshop's way; a few belong to people the CRM has never
seen; and a role address (``info@`` of a small company) is used by more accounts than
identity resolution lets one value link, so it must link nothing.

:func:`identity_truth` then states, per customer record of either source, which person
it really is (``true_person``: the CRM customer_id, or the account's own id for people
not in the CRM) and which records the linking rules are *expected* to merge although
they are different people: household members who share an address or a number, and
numbers that two households drew by chance.  The accounts table holds the values in the
form ingest stores them (lower-case email, E.164 phone); the export writes them messy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from segmint.config import IdentityConfig
from segmint.demo import _arrow as ax
from segmint.demo import _names as nm
from segmint.demo._params import Scenario
from segmint.demo._people import countries

ACCOUNT_SHARE = 0.08  # of CRM customers with an email or a phone
WEBSHOP_ONLY_SHARE = 0.01  # accounts of people not in the CRM, per CRM customer
WEBSHOP_ONLY_NO_PHONE = 0.25  # of those, share who gave no phone
#: which contact details an account of a CRM customer repeats (when the CRM has both)
VARIANTS: tuple[tuple[str, float], ...] = (
    ("email_and_phone", 0.6),
    ("email_only", 0.2),
    ("phone_only", 0.2),
)
#: the identity limit the role address must exceed (the default of the project config)
MAX_RECORDS_PER_VALUE = IdentityConfig().max_records_per_value
ROLE_ADDRESS_ACCOUNTS = MAX_RECORDS_PER_VALUE + 2
ROLE_VARIANT = "role_address_and_phone"
ROLE_DOMAINS = ("nordlys-el.dk", "hansens-vvs.dk", "bageriet-vestergade.dk", "fjord-revision.dk")
CRM_SOURCE = "crm"
WEBSHOP_SOURCE = "webshop"
IDENTITY_KEYS = ("email", "phone", "org_number")

TRUTH_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("source", pa.string()),
        ("true_person", pa.string()),
        ("household_id", pa.string()),
        ("kind", pa.string()),  # crm, account (of a CRM customer), webshop_only
        ("role_address", pa.bool_()),
        ("variant", pa.string()),  # which details an account repeats; null for CRM records
    ]
)


@dataclass(frozen=True)
class WebshopAccounts:
    """Accounts (datamodel customers fields, normalised values) and their truth rows."""

    table: pa.Table
    truth: pa.Table
    role_address: str
    role_customer_ids: list[str]


def webshop_accounts(
    rng: np.random.Generator,
    scenario: Scenario,
    crm: pa.Table,
    epoch: np.datetime64,
    end: np.datetime64,
) -> WebshopAccounts:
    """Draw the webshop's accounts for the CRM customers ``crm``.

    Every random draw has a size fixed by ``len(crm)`` (or by the number drawn before it),
    so the same seed gives the same accounts.
    """
    n = crm.num_rows
    email = crm["email"].combine_chunks()
    phone = crm["phone"].combine_chunks()
    has_email = email.is_valid().to_numpy(zero_copy_only=False)
    has_phone = phone.is_valid().to_numpy(zero_copy_only=False)
    end_day = int((end - epoch).astype(int))
    signup = _days(crm["signup_date"], epoch)

    role_address = f"info@{ROLE_DOMAINS[int(rng.integers(len(ROLE_DOMAINS)))]}"
    with_phone = np.flatnonzero(has_phone)
    k_role = min(ROLE_ADDRESS_ACCOUNTS // 2, len(with_phone))
    role_crm = np.sort(rng.choice(with_phone, size=k_role, replace=False))
    is_role = np.zeros(n, dtype=bool)
    is_role[role_crm] = True
    u = rng.random(n)
    picked = np.flatnonzero((has_email | has_phone) & ~is_role & (u < ACCOUNT_SHARE))
    names, probs = zip(*VARIANTS, strict=True)
    drawn = ax.categorical(rng, np.array(probs), n)[picked]
    both = has_email[picked] & has_phone[picked]
    variant = np.where(both, drawn, np.where(has_email[picked], 1, 2))

    # accounts of CRM customers: regular ones, then those on the role address (whose
    # phone is what links them to their person)
    crm_rows = np.concatenate([picked, role_crm])
    crm_variant = np.concatenate([variant, np.full(k_role, len(names))])
    k_crm = len(crm_rows)
    created_crm = signup[crm_rows] + np.floor(
        rng.random(k_crm) * (end_day + 1 - signup[crm_rows])
    ).astype(np.int64)
    keep_email = crm_variant <= 1
    keep_phone = crm_variant != 1
    acc_email = pc.if_else(
        pa.array(np.arange(k_crm) >= len(picked)),
        role_address,
        ax.take(email, crm_rows, null=~keep_email),
    )
    acc_phone = ax.take(phone, crm_rows, null=~keep_phone)

    # people the CRM has never seen, then the rest of the role-address accounts
    m_own = round(WEBSHOP_ONLY_SHARE * n)
    m = m_own + ROLE_ADDRESS_ACCOUNTS - k_role
    country = countries(rng, scenario, m)
    pools = nm.name_pools()
    female = (rng.random(m) < 0.52).astype(np.int64)
    first = pools.first.draw(rng, country, female)
    last = pools.last.draw(rng, country)
    birth_year = rng.integers(1950, 2007, m)
    created_own = np.floor(rng.random(m) * (end_day + 1)).astype(np.int64)
    placeholder = ax.numbers(np.arange(m), prefix="w")
    own_email = nm.emails(
        rng,
        pools.first.ascii.take(ax.indices(first)),
        pools.last.ascii.take(ax.indices(last)),
        birth_year,
        nm.domains(rng, country),
        placeholder,
    )
    # never an address or a number of someone else: these are people of their own
    clash = pc.is_in(own_email, value_set=email.drop_null()).to_numpy(zero_copy_only=False)
    if clash.any():
        fallback = ax.join(
            pools.first.ascii.take(ax.indices(first)),
            ".",
            pools.last.ascii.take(ax.indices(last)),
            ".",
            placeholder,
            "@",
            nm.domains(rng, country),
        )
        own_email = pc.if_else(pa.array(clash), fallback, own_email)
    own_phone = _fresh_phones(rng, country, phone)
    no_phone = rng.random(m) < WEBSHOP_ONLY_NO_PHONE
    role_own = np.arange(m) >= m_own
    own_email = pc.if_else(pa.array(role_own), role_address, own_email)
    own_phone = ax.take(own_phone, np.arange(m), null=no_phone | role_own)

    created = np.concatenate([created_crm, created_own])
    order = np.argsort(created, kind="stable")  # account numbers grow with creation
    total = k_crm + m
    ids = ax.numbers(np.arange(1, total + 1), prefix="W", width=6)
    position = np.empty(total, dtype=np.int64)
    position[order] = np.arange(total)
    account_id = ids.take(ax.indices(position))  # in the concatenated order below

    crm_id = crm["customer_id"].combine_chunks()
    household = crm["household_id"].combine_chunks()
    columns = {
        "customer_id": account_id,
        "customer_type": ax.constant("person", total),
        "first_name": pa.concat_arrays(
            [
                crm["first_name"].combine_chunks().take(ax.indices(crm_rows)),
                pools.first.values.take(ax.indices(first)),
            ]
        ),
        "last_name": pa.concat_arrays(
            [
                crm["last_name"].combine_chunks().take(ax.indices(crm_rows)),
                pools.last.values.take(ax.indices(last)),
            ]
        ),
        "email": pa.concat_arrays([acc_email, own_email]),
        "phone": pa.concat_arrays([acc_phone, own_phone]),
        "signup_date": ax.dates(epoch, created.astype(float)),
    }
    table = ax.entity_table("customers", columns, total).take(ax.indices(order))
    variant_names = pa.concat_arrays(
        [ax.take([*names, ROLE_VARIANT], crm_variant), pa.nulls(m, pa.string())]
    )
    truth = pa.table(
        {
            "customer_id": account_id,
            "source": ax.constant(WEBSHOP_SOURCE, total),
            "true_person": pa.concat_arrays(
                [crm_id.take(ax.indices(crm_rows)), account_id.slice(k_crm)]
            ),
            "household_id": pa.concat_arrays(
                [household.take(ax.indices(crm_rows)), pa.nulls(m, pa.string())]
            ),
            "kind": pa.concat_arrays(
                [ax.constant("account", k_crm), ax.constant("webshop_only", m)]
            ),
            "role_address": pa.array(np.concatenate([np.arange(k_crm) >= len(picked), role_own])),
            "variant": variant_names,
        },
        schema=TRUTH_SCHEMA,
    ).take(ax.indices(order))
    role_ids = pc.filter(truth["customer_id"], truth["role_address"]).to_pylist()
    return WebshopAccounts(table, truth, role_address, sorted(role_ids))


def _days(dates: pa.ChunkedArray | pa.Array, epoch: np.datetime64) -> np.ndarray:
    """Whole days after ``epoch`` of a date column."""
    since_1970 = np.asarray(pc.cast(dates, pa.int32()).to_numpy(), dtype=np.int64)
    return since_1970 - int(epoch.astype("datetime64[D]").astype(np.int64))


def _fresh_phones(rng: np.random.Generator, country: np.ndarray, taken: pa.Array) -> pa.Array:
    """Mobile numbers of ``country`` that no CRM customer and no other row holds."""
    phones = nm.phones(rng, country)
    seen = set(taken.drop_null().to_pylist())
    values = phones.to_pylist()
    for i, v in enumerate(values):
        while v in seen:  # rare: redraw this one number until it is new
            v = nm.phones(rng, country[i : i + 1])[0].as_py()
        seen.add(v)
        values[i] = v
    return pa.array(values, pa.string())


def crm_truth(crm: pa.Table) -> pa.Table:
    """Truth rows of the CRM records: each is its own person."""
    n = crm.num_rows
    ids = crm["customer_id"].combine_chunks()
    household = (
        crm["household_id"].combine_chunks()
        if "household_id" in crm.column_names
        else pa.nulls(n, pa.string())
    )
    return pa.table(
        {
            "customer_id": ids,
            "source": ax.constant(CRM_SOURCE, n),
            "true_person": ids,
            "household_id": household.cast(pa.string()),
            "kind": ax.constant("crm", n),
            "role_address": pa.array(np.zeros(n, dtype=bool)),
            "variant": pa.nulls(n, pa.string()),
        },
        schema=TRUTH_SCHEMA,
    )


def identity_truth(
    crm: pa.Table, accounts: WebshopAccounts | None
) -> tuple[pa.Table, dict[str, Any]]:
    """The truth table of every customer record, and the JSON summary of identity truth.

    Key values are taken as ingest normalises them (the generated tables hold that form);
    a value held by more than :data:`MAX_RECORDS_PER_VALUE` ids links nothing, any other
    value shared by several ids links them, whoever they really are.
    """
    truth = crm_truth(crm)
    records = [crm.select([k for k in ("customer_id", *IDENTITY_KEYS) if k in crm.column_names])]
    if accounts is not None:
        truth = pa.concat_tables([truth, accounts.truth])
        records.append(accounts.table.select(records[0].column_names))
    values = _key_values(pa.concat_tables(records).to_pandas())
    frame = truth.select(["customer_id", "true_person", "household_id"]).to_pandas()
    values = values.merge(frame, on="customer_id")
    n_ids = values.groupby(["key", "value"])["customer_id"].transform("nunique")
    skipped = (
        values[n_ids > MAX_RECORDS_PER_VALUE]
        .groupby(["key", "value"], as_index=False)
        .agg(n_customer_ids=("customer_id", "nunique"))
    )
    linking = values[(n_ids >= 2) & (n_ids <= MAX_RECORDS_PER_VALUE)]
    n_persons = linking.groupby(["key", "value"])["true_person"].transform("nunique")
    linking = linking[n_persons > 1]
    household_of = dict(zip(frame["customer_id"], frame["household_id"], strict=True))
    merges: list[dict[str, Any]] = []
    for (key, value), group in linking.groupby(["key", "value"], sort=True):
        persons = sorted(set(group["true_person"]))
        for other in persons[1:]:
            home = household_of[persons[0]]
            same = home is not None and home == household_of[other]
            merges.append(
                {
                    "customer_id": other,
                    "linked_customer_id": persons[0],
                    "key": key,
                    "value": value,
                    "reason": "household" if same else "chance",
                    "household_id": home if same else None,
                }
            )

    ids = truth["customer_id"].to_pylist()
    index = {c: i for i, c in enumerate(ids)}
    a = [index[c] for c in ids] + [index[x["customer_id"]] for x in merges]
    b = [index[p] for p in truth["true_person"].to_pylist()] + [
        index[x["linked_customer_id"]] for x in merges
    ]
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(len(ids), len(ids)))
    n_rule_persons = int(connected_components(graph, directed=False)[0]) if ids else 0

    kinds = pc.value_counts(truth["kind"]).to_pylist()
    by_kind = {str(x["values"]): int(x["counts"]) for x in kinds}
    summary: dict[str, Any] = {
        "description": "which customer records are one person. truth_identity.parquet has "
        "one row per record of either source: customer_id, source, true_person (the CRM "
        "customer_id of the person, or the account's own id for people not in the CRM), "
        "household_id, kind (crm / account / webshop_only), role_address, variant",
        "keys": ["customer_id", *IDENTITY_KEYS],
        "max_records_per_value": MAX_RECORDS_PER_VALUE,
        "sources": {CRM_SOURCE: crm.num_rows}
        | ({WEBSHOP_SOURCE: accounts.table.num_rows} if accounts is not None else {}),
        "counts": {
            "records": truth.num_rows,
            "crm_records": by_kind.get("crm", 0),
            "accounts_of_crm_customers": by_kind.get("account", 0),
            "webshop_only_persons": by_kind.get("webshop_only", 0),
            "true_persons": len(set(truth["true_person"].to_pylist())),
            "persons_by_the_rules": n_rule_persons,
        },
        "expected_rule_merges": {
            "description": "pairs of different true persons that the linking rules merge, "
            "because their records share a key value held by at most max_records_per_value "
            "ids: 'household' (members of one household sharing an address or number) or "
            "'chance' (two households drew the same value). Persons by the rules are the "
            "connected components of true_person links plus these pairs",
            "pairs": merges,
        },
        "skipped_values": [
            {"key": str(k), "value": str(v), "n_customer_ids": int(n)}
            for k, v, n in zip(
                skipped["key"], skipped["value"], skipped["n_customer_ids"], strict=True
            )
        ],
    }
    if accounts is not None:
        summary["webshop"] = {
            "file": "webshop_konti.csv",
            "account_share": ACCOUNT_SHARE,
            "webshop_only_share": WEBSHOP_ONLY_SHARE,
            "webshop_only_without_phone": WEBSHOP_ONLY_NO_PHONE,
            "variant_probabilities": dict(VARIANTS),
            "variants": "for a CRM customer with both email and phone; with one of them the "
            "account repeats that one",
            "written": "emails upper-case, title-case or with surrounding spaces; phones in "
            "another format than the CRM's (+45 20 12 34 56, +4520123456, 0045 20123456)",
            "role_address": {
                "value": accounts.role_address,
                "customer_ids": accounts.role_customer_ids,
                "expected": "more ids than max_records_per_value: links nothing; the "
                "accounts of CRM customers on it link by their phone",
            },
        }
    return truth, summary


def _key_values(records: pd.DataFrame) -> pd.DataFrame:
    """customer_id, key, value: one row per non-empty key value of a record."""
    parts = []
    for key in IDENTITY_KEYS:
        if key in records.columns:
            part = records[["customer_id", key]].dropna().rename(columns={key: "value"})
            parts.append(part.assign(key=key))
    if not parts:
        return pd.DataFrame({"customer_id": [], "value": [], "key": []}, dtype=object)
    return pd.concat(parts, ignore_index=True).drop_duplicates()
