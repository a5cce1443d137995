"""``connect(url)``: the one way to get an engine."""

from __future__ import annotations

from pathlib import Path

from segmint.engine import _duckdb  # noqa: F401  (registers the built-in engine)
from segmint.engine._base import Engine, engine_factory, register_engine
from segmint.exceptions import EngineError


def _connect_spark(url: str, base_dir: Path) -> Engine:
    """Spark is an extra: pyspark is imported only when a spark:// URL is opened."""
    try:
        from segmint.engine._spark import connect_spark
    except ImportError as e:
        raise EngineError(
            f"engine URL {url!r} needs Spark: pip install 'segmint[spark]' ({e})"
        ) from e
    return connect_spark(url, base_dir)


register_engine("spark", _connect_spark)


def connect(url: str = "duckdb:///:memory:", *, base_dir: Path | str = ".") -> Engine:
    """Connect to the engine at ``url``; relative file paths resolve against ``base_dir``.

    Examples
    --------
    >>> eng = connect("duckdb:///:memory:")
    >>> eng.name
    'duckdb'
    """
    scheme, sep, _ = url.partition("://")
    if not sep:
        raise EngineError(f"engine URL {url!r} has no scheme: write e.g. duckdb:///store.duckdb")
    return engine_factory(scheme)(url, Path(base_dir))
