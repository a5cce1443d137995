"""PostgreSQL table destination, through psycopg 3.

The table (``segmint_<destination>`` unless ``table`` says) holds one row per segment
member: ``segment``, ``customer_id``, the profile fields as text and ``synced_at``.  A
full sync replaces the segment's rows; a delta sync deletes the exited members and
inserts (or replaces) the entered ones.  Either happens in one PostgreSQL transaction, so
a failure leaves the table as it was.  The connection string comes from the environment
variable named by ``dsn_env`` (never from segmint.yaml).
"""

from __future__ import annotations

import os
import re
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from segmint.activation._destination import Delivery, DeliveryError, ExportBatch
from segmint.activation._files import FILE_FIELDS
from segmint.exceptions import ConfigError

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def _table_name(batch: ExportBatch) -> str:
    d = batch.destination
    name = d.table or f"segmint_{d.name.replace('-', '_')}"
    parts = name.split(".")
    if not all(_IDENT.match(p) for p in parts) or len(parts) > 2:
        raise ConfigError(f"destination {d.name!r}: {name!r} is not a plain table name")
    return name


class PostgresTable:
    def deliver(self, batch: ExportBatch) -> Delivery:
        try:
            import psycopg
            from psycopg import sql
        except ImportError:  # pragma: no cover
            raise ConfigError(
                "the postgres destination needs psycopg: pip install 'psycopg[binary]'"
            ) from None
        d = batch.destination
        dsn = os.environ.get(d.dsn_env)
        if not dsn:
            raise ConfigError(
                f"destination {d.name!r}: set the connection string in the environment "
                f"variable {d.dsn_env}"
            )
        table = sql.Identifier(*_table_name(batch).split("."))
        fields = [f for f in FILE_FIELDS if f in batch.rows.column_names and f != "customer_id"]
        columns = ["segment", "customer_id", *fields]
        rows = batch.rows
        if batch.mode == "delta":
            change = rows.column("change")
            entered = rows.filter(pc.equal(change, "entered"))
            exited_ids = rows.filter(pc.equal(change, "exited")).column("customer_id").to_pylist()
        else:
            entered, exited_ids = rows, []
        try:
            with psycopg.connect(dsn) as con, con.transaction(), con.cursor() as cur:
                cur.execute(
                    sql.SQL(
                        "CREATE TABLE IF NOT EXISTS {} (segment text NOT NULL, customer_id text "
                        "NOT NULL, {}, synced_at timestamptz NOT NULL DEFAULT now(), "
                        "PRIMARY KEY (segment, customer_id))"
                    ).format(
                        table,
                        sql.SQL(", ").join(
                            sql.SQL("{} text").format(sql.Identifier(f)) for f in fields
                        ),
                    )
                )
                if batch.mode == "full":
                    cur.execute(
                        sql.SQL("DELETE FROM {} WHERE segment = %s").format(table), [batch.segment]
                    )
                ids = [*exited_ids, *entered.column("customer_id").to_pylist()]
                if ids and batch.mode == "delta":
                    cur.execute(
                        sql.SQL(
                            "DELETE FROM {} WHERE segment = %s AND customer_id = ANY(%s)"
                        ).format(table),
                        [batch.segment, [str(i) for i in ids]],
                    )
                copy = sql.SQL("COPY {} ({}) FROM STDIN").format(
                    table, sql.SQL(", ").join(sql.Identifier(c) for c in columns)
                )
                with cur.copy(copy) as cp:
                    for r in _text_rows(entered, fields):
                        cp.write_row([batch.segment, *r])
        except psycopg.Error as e:
            raise DeliveryError(f"destination {d.name!r}: PostgreSQL: {e}") from None
        return Delivery(rows.num_rows, f"postgresql table {_table_name(batch)}")


def _text_rows(rows: pa.Table, fields: list[str]) -> list[list[Any]]:
    cols = [rows.column("customer_id").cast(pa.string()).to_pylist()]
    for f in fields:
        col = rows.column(f)
        cols.append(
            col.cast(pa.string()).to_pylist()
            if not pa.types.is_string(col.type)
            else col.to_pylist()
        )
    return [list(r) for r in zip(*cols, strict=True)]
