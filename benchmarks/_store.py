"""A large demo store for benchmarks, built directly from generated tables.

``segmint demo`` writes messy export files and loads them through ingest, which is what a
user does (and what ``benchmarks/ingest.py`` measures); for the segment benchmarks we only
need the resulting store, so this writes the generated tables straight into a DuckDB file
with the bookkeeping columns ingest would add, then resolves identities. The store is
cached in the given folder and reused when it is there already.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from segmint import service
from segmint.datamodel import ENTITIES
from segmint.demo import generate
from segmint.project import Project


def _with_bookkeeping(name: str, table: pa.Table, source: str) -> pa.Table:
    entity = ENTITIES[name]
    n = table.num_rows
    keys = [pc.cast(table.column(k), pa.string()) for k in entity.key if k in table.column_names]
    if entity.per_source:
        keys.insert(0, pa.array([source] * n, pa.string()))
    key = keys[0] if len(keys) == 1 else pc.binary_join_element_wise(*keys, "|")
    extra = {
        "_key": key,
        "_source": pa.array([source] * n, pa.string()),
        "_loaded_at": pa.array([datetime(2026, 10, 1)] * n, pa.timestamp("us")),
        "_row": pa.array(range(2, n + 2), pa.int64()),
    }
    return pa.table({**extra, **{c: table.column(c) for c in table.column_names}})


def build_store(folder: Path, customers: int, seed: int = 0) -> Project:
    """A project in ``folder`` holding the demo company of ``customers`` customers."""
    if (folder / "segmint.yaml").exists() and (folder / "store.duckdb").exists():
        return Project.open(folder)
    t0 = time.perf_counter()
    data = generate(n_customers=customers, seed=seed)
    project = service.init_project(folder, name=f"benchmark {customers:,}")
    eng = project.engine
    for name, table in data.tables.items():
        if name in ENTITIES:
            eng.write(name, _with_bookkeeping(name, table, "crm" if name == "customers" else name))
    service.identities(project)
    print(f"built store of {customers:,} customers in {time.perf_counter() - t0:.1f} s")
    return project
