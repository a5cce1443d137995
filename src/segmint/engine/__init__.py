"""Engines: where a project's data lives and its queries run.

``connect(url)`` returns an :class:`Engine`, a thin wrapper over an Ibis backend that adds
what segmint needs on every engine: atomic units of work, keyed merges and a few catalogue
helpers.  All data work elsewhere is written as Ibis expressions against ``engine.con``, so
a project runs unchanged on any engine registered here.
"""

from __future__ import annotations

from segmint.engine._base import Engine, register_engine, spark_sql
from segmint.engine._connect import connect

__all__ = ["Engine", "connect", "register_engine", "spark_sql"]
