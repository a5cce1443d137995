"""``connect(url)``: the one way to get an engine."""

from __future__ import annotations

from pathlib import Path

from segmint.engine import _duckdb  # noqa: F401  (registers the built-in engine)
from segmint.engine._base import Engine, engine_factory
from segmint.exceptions import EngineError


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
