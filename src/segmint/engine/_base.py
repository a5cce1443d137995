"""The engine contract every backend implements."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from segmint.exceptions import EngineError

if TYPE_CHECKING:
    import ibis
    import ibis.expr.types as ir
    import pyarrow as pa

_ENGINES: dict[str, Callable[[str, Path], Engine]] = {}
_counter = itertools.count()
#: the start of every work table's name
WORK_PREFIX = "_segmint_"


def register_engine(scheme: str, factory: Callable[[str, Path], Engine]) -> None:
    """Make ``scheme://...`` URLs connect through ``factory(url, base_dir)``.

    Built-in engines register themselves the same way a third-party one would.
    """
    _ENGINES[scheme] = factory


def spark_sql(expr: ir.Expr) -> str:
    """The Spark SQL an expression compiles to: to check it is portable, or to debug it.

    Needs no Spark session (and no pyspark beyond Ibis' compiler options).
    """
    import ibis
    from ibis.backends.pyspark import Backend

    if ibis.options.pyspark is None:
        Backend.register_options()
    return str(ibis.to_sql(expr, dialect="pyspark"))


def engine_factory(scheme: str) -> Callable[[str, Path], Engine]:
    try:
        return _ENGINES[scheme]
    except KeyError:
        known = ", ".join(sorted(_ENGINES))
        raise EngineError(f"unknown engine {scheme!r}: use one of {known}") from None


class Engine:
    """An Ibis backend plus the few operations Ibis leaves to each engine.

    Parameters
    ----------
    con
        The connected Ibis backend.
    url
        The URL it was connected from (shown in reports).
    """

    name: ClassVar[str] = "engine"
    #: whether :meth:`replace_with` moves a stored work table into place (no copy)
    moves_tables: ClassVar[bool] = False

    def __init__(self, con: ibis.BaseBackend, url: str) -> None:
        self.con = con
        self.url = url
        self._depth = 0
        #: work tables read in place of an expression while one evaluation runs (see
        #: ``segmint.traits._activity.pinned_identities``)
        self.pinned: dict[str, ir.Table] = {}

    # -- catalogue -----------------------------------------------------------------------
    def has_table(self, name: str) -> bool:
        return name in self.con.list_tables()

    def table(self, name: str) -> ir.Table:
        return self.con.table(name)

    def count(self, name: str) -> int:
        return int(self.con.table(name).count().execute()) if self.has_table(name) else 0

    def write(self, name: str, obj: ir.Table | pa.Table, *, temp: bool = False) -> None:
        """Create or replace table ``name`` with ``obj``."""
        self.con.create_table(name, obj, overwrite=True, temp=temp)

    def append(self, name: str, obj: ir.Table | pa.Table) -> None:
        """Append ``obj`` to ``name``, creating the table if needed."""
        if self.has_table(name):
            self.con.insert(name, obj)
        else:
            self.con.create_table(name, obj)

    def drop(self, name: str) -> None:
        self.con.drop_table(name, force=True)

    def temp_name(self, prefix: str) -> str:
        return f"{WORK_PREFIX}{prefix}_{next(_counter)}"

    def stored_work_tables(self) -> list[str]:
        """Work tables (named by :meth:`temp_name`) written as stored tables: what a
        process killed during a run leaves behind (temporary ones die with it)."""
        return []

    # -- writes ---------------------------------------------------------------------------
    def merge(self, name: str, obj: ir.Table, *, on: str = "_key") -> None:
        """Insert rows of ``obj`` into ``name``, replacing rows with the same ``on`` value.

        The generic form rewrites the table (portable to every engine); engines with a
        native MERGE override it.
        """
        if not self.has_table(name):
            self.con.create_table(name, obj)
            return
        target = self.con.table(name)
        kept = target.anti_join(obj, on)
        self.con.create_table(name, kept.union(obj.select(target.columns)), overwrite=True)

    def delete_in(self, name: str, column: str, values: list[str]) -> None:
        """Delete the rows of ``name`` whose ``column`` is one of ``values``.

        The generic form rewrites the table (portable to every engine); engines that can
        delete rows in place override it.
        """
        if not values:
            return
        t = self.con.table(name)
        self.con.create_table(
            name, t.filter(~t[column].isin(values).fill_null(False)), overwrite=True
        )

    def update_matched(
        self, name: str, keys: ir.Table, *, on: Sequence[str], column: str, value: str
    ) -> None:
        """Set ``column`` to ``value`` on the rows of ``name`` where it is null and whose
        ``on`` columns equal those of a row of ``keys``.

        The generic form rewrites the table (portable to every engine); engines that can
        update rows in place override it.
        """
        import ibis

        t = self.con.table(name)
        k = keys.select(**{f"_m_{c}": keys[c] for c in on}).distinct().mutate(_m=True)
        j = t.left_join(k, [t[c] == k[f"_m_{c}"] for c in on])
        hit = j._m.notnull() & j[column].isnull()
        new = ibis.ifelse(hit, ibis.literal(value).cast(t[column].type()), j[column])
        self.con.create_table(
            name, j.select(**{c: new if c == column else j[c] for c in t.columns}), overwrite=True
        )

    def replace_with(
        self,
        name: str,
        work: str,
        *,
        drop: Sequence[str] = (),
        constants: Mapping[str, ir.Scalar] | None = None,
    ) -> None:
        """Replace table ``name`` by the rows of work table ``work`` without the columns
        ``drop`` and with ``constants`` appended as columns.

        The generic form copies the rows; engines that can rename a table override it and
        move ``work`` into place instead (it is gone afterwards).  ``work`` must then be a
        stored table (written with ``temp=False``, see :attr:`moves_tables`).
        """
        t = self.con.table(work)
        self.write(name, t.drop(*drop).mutate(**(constants or {})))

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """A unit of work that publishes all of its writes or none of them."""
        raise EngineError(f"{self.name} engine has no transactions")
        yield  # pragma: no cover

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.con.disconnect()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
