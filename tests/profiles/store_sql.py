"""Queries straight on a project's DuckDB file, bypassing segmint (for known answers)."""

from __future__ import annotations

import duckdb
import pandas as pd

from segmint.project import Project


def raw(project: Project, sql: str) -> pd.DataFrame:
    """A query straight on the store's DuckDB file, bypassing segmint (for known answers)."""
    project.close()
    con = duckdb.connect(str(project.root / "store.duckdb"), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()
