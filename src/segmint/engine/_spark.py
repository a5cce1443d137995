"""The scale-out engine: Apache Spark through Ibis' PySpark backend.

``spark://local[2]`` runs Spark inside this process (local mode); ``spark://host:7077``,
``spark://yarn`` and ``spark://k8s://https://host:443`` name a cluster master.  The query
string carries engine options and Spark settings::

    spark://local[2]?warehouse=/data/wh&database=shop&spark.sql.shuffle.partitions=8

Tables are managed Parquet tables in a Hive metastore (an embedded Derby database in the
project folder unless ``metastore=external``), so a project survives restarts.  Spark has
no multi-table transactions and Ibis' upsert needs Delta Lake, so this module adds what
the engine contract needs, by hand:

* **Staged writes.**  Every write to a table goes to a new staging table
  ``_segmint_tx_<unit>_<n>_<table>``; reads inside the unit of work see the staged
  version.  Nothing is ever overwritten while it is read, which Spark refuses anyway.
* **Publishing by swap.**  When the unit ends, each target is renamed to a backup
  ``_segmint_old_<unit>_<table>``, its staged table renamed into place, then the backups
  are dropped.  A unit that fails drops its staging tables and leaves every table as it
  was.
* **A publish log.**  A unit that publishes several tables first writes
  ``_segmint_publish_<unit>`` listing them: that write is the commit point.  A crash
  during the swaps leaves the log behind, and the next connection to the database rolls
  the unit forward.  Without a log, leftovers are rolled back.
* **Session-scoped temp tables.**  ``create_table(temp=True)`` (which Ibis' PySpark backend
  refuses) makes a temp view over locally checkpointed data, private to the engine.

Each engine gets its own child session (``SparkSession.newSession``): its own current
database, temp views and SQL settings on the one Spark context this process runs, since
starting Spark takes 10-20 s (``_spark_session.py``: options and that context).  See
docs/spark.md for the guarantees and their limits.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlparse

import ibis
import ibis.common.exceptions as com
import ibis.expr.types as ir
import pyarrow as pa
from ibis.backends.pyspark import Backend as PySparkBackend
from ibis.backends.pyspark.datatypes import PySparkSchema

from segmint.engine._base import Engine, register_engine
from segmint.engine._spark_session import (
    SparkOptions,
    spark_options,
    spark_session,
)
from segmint.exceptions import EngineError

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import DataFrame, SparkSession

STAGED_PREFIX = "_segmint_tx_"
BACKUP_PREFIX = "_segmint_old_"
LOG_PREFIX = "_segmint_publish_"
_STAGED = re.compile(rf"^{STAGED_PREFIX}([0-9a-f]{{8}})_\d+_(.+)$")
_BACKUP = re.compile(rf"^{BACKUP_PREFIX}([0-9a-f]{{8}})_(.+)$")
_LOG = re.compile(rf"^{LOG_PREFIX}([0-9a-f]{{8}})$")
#: units of work running in this process: recovery must not touch their tables
_IN_FLIGHT: set[str] = set()
#: temp tables are re-checkpointed into one part after this many inserts
_MAX_TEMP_PARTS = 16


# -- the Ibis backend ---------------------------------------------------------------------
@dataclass
class _Unit:
    """One unit of work: the tables it staged (None: dropped) and what it superseded."""

    id: str
    targets: dict[str, str | None] = field(default_factory=dict)
    superseded: list[str] = field(default_factory=list)
    writes: int = 0

    def stage_name(self, target: str) -> str:
        self.writes += 1
        return f"{STAGED_PREFIX}{self.id}_{self.writes}_{target}"


class _PublishError(Exception):
    """Publishing failed after the commit point: recovery rolls the unit forward."""


def _quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _conform(rows: ir.Table, schema: ibis.Schema) -> ir.Table:
    """``rows`` with ``schema``'s columns and types: by name if they are a subset, else by
    position (Ibis' insert rule); missing columns are null."""
    if set(rows.columns) <= set(schema.names):
        return rows.select(
            [
                (rows[n] if n in rows.columns else ibis.null()).cast(t).name(n)
                for n, t in schema.items()
            ]
        )
    if len(rows.columns) != len(schema):
        raise EngineError(
            f"cannot insert columns {', '.join(rows.columns)} into a table with columns "
            f"{', '.join(schema.names)}: give them the table's names"
        )
    return rows.select(
        [rows[c].cast(t).name(n) for c, (n, t) in zip(rows.columns, schema.items(), strict=True)]
    )


def _conform_arrow(table: pa.Table, schema: ibis.Schema) -> pa.Table:
    if set(table.column_names) <= set(schema.names):
        columns = [
            table.column(n).cast(t.to_pyarrow())
            if n in table.column_names
            else pa.nulls(table.num_rows, t.to_pyarrow())
            for n, t in schema.items()
        ]
    elif table.num_columns == len(schema):
        columns = [c.cast(t.to_pyarrow()) for c, t in zip(table.columns, schema.types, strict=True)]
    else:
        return _conform(ibis.memtable(table), schema).to_pyarrow()  # raises the clear error
    return pa.Table.from_arrays(columns, schema=schema.to_pyarrow())


class SparkBackend(PySparkBackend):
    """Ibis' PySpark backend with session-scoped temp tables and staged, swapped writes.

    Every table write through this object (``create_table``, ``insert``, ``drop_table``,
    ``rename_table``) joins the current unit of work or, outside one, is a unit of its
    own; SQL run by hand (``raw_sql``, ``sql``) is not staged.
    """

    def do_connect(self, session: SparkSession | None = None, **kwargs: Any) -> None:
        super().do_connect(session, **kwargs)
        self._temps: dict[str, list[DataFrame]] = {}
        self._unit: _Unit | None = None

    def disconnect(self) -> None:
        """Drop this engine's temp tables; the shared Spark context keeps running."""
        for name in list(self._temps):
            self._session.catalog.dropTempView(name)
        self._temps.clear()

    @property
    def session(self) -> SparkSession:
        return self._session

    # -- reading: inside a unit of work, staged tables stand in for their targets --------
    def _resolve(self, name: str) -> str:
        key = name.lower()
        if self._unit is None or key in self._temps or key not in self._unit.targets:
            return name
        staged = self._unit.targets[key]
        if staged is None:
            raise com.TableNotFound(name)
        return staged

    def table(self, name: str, /, *, database: Any = None) -> ir.Table:
        return super().table(name if database else self._resolve(name), database=database)

    def get_schema(
        self, table_name: str, *, catalog: str | None = None, database: str | None = None
    ) -> ibis.Schema:
        name = table_name if catalog or database else self._resolve(table_name)
        schema = super().get_schema(name, catalog=catalog, database=database)
        # Spark keeps microseconds, as DuckDB does: say so, so schemas compare equal
        return ibis.schema(
            {
                n: t.copy(scale=6) if t.is_timestamp() and t.scale is None else t
                for n, t in schema.items()
            }
        )

    def _stored_tables(self) -> list[str]:
        """Every table in the engine's database, internal ones included (no temp views)."""
        rows = self._session.sql(f"SHOW TABLES IN {_quote(self.current_database)}").collect()
        return [r.tableName for r in rows if not r.isTemporary]

    def list_tables(self, *, like: str | None = None, database: Any = None) -> list[str]:
        names = {
            n
            for n in super().list_tables(database=database)
            if not n.startswith((STAGED_PREFIX, BACKUP_PREFIX, LOG_PREFIX))
        }
        if self._unit is not None and database is None:
            for target, staged in self._unit.targets.items():
                (names.add if staged is not None else names.discard)(target)
        return self._filter_with_like(sorted(names), like)

    def _exists(self, name: str) -> bool:
        return name.lower() in {n.lower() for n in self.list_tables()}

    # -- writing --------------------------------------------------------------------------
    def _frame(self, obj: Any, schema: ibis.Schema | None = None) -> DataFrame:
        """A Spark DataFrame of ``obj`` (in ``schema``'s columns and types when given).

        Arrow and pandas data go to Spark directly rather than as an Ibis memtable, which
        would stay registered (and in the driver's memory) for the session's life.
        """
        if isinstance(obj, ir.Table):
            expr = obj if schema is None else _conform(obj, schema)
            self._run_pre_execute_hooks(expr)
            return self._session.sql(self.compile(expr))
        if type(obj).__module__.startswith("pandas"):
            obj = pa.Table.from_pandas(obj, preserve_index=False)
        if not isinstance(obj, pa.Table):
            return self._frame(ibis.memtable(obj), schema)
        target = schema or ibis.Schema.from_pyarrow(obj.schema)
        data = _conform_arrow(obj, target)
        return self._session.createDataFrame(data, schema=PySparkSchema.from_ibis(target))

    def create_table(
        self,
        name: str,
        /,
        obj: ir.Table | pd.DataFrame | pa.Table | None = None,
        *,
        schema: Any = None,
        database: str | None = None,
        temp: bool | None = None,
        overwrite: bool = False,
        format: str = "parquet",
        partition_by: str | list[str] | None = None,
    ) -> ir.Table:
        if obj is None and schema is None:
            raise com.IbisError("The schema or obj parameter is required")
        if temp:
            return self._create_temp(name, obj, schema, overwrite)
        if database is not None:
            self._not_in_unit(f"create_table({name!r}, database={database!r})")
            return super().create_table(
                name, obj, schema=schema, database=database, overwrite=overwrite,
                format=format, partition_by=partition_by,
            )  # fmt: skip
        with self.unit_of_work() as unit:
            if not overwrite and self._exists(name):
                raise EngineError(
                    f"table {name!r} already exists: pass overwrite=True to replace it"
                )
            staged = unit.stage_name(name.lower())
            frame = (
                self._frame(obj)
                if obj is not None
                else self._session.createDataFrame([], PySparkSchema.from_ibis(ibis.schema(schema)))
            )
            frame.write.saveAsTable(staged, format=format, mode="error", partitionBy=partition_by)
            self._stage(unit, name, staged)
        return self.table(name)

    def insert(
        self,
        name: str,
        /,
        obj: Any,
        *,
        database: str | None = None,
        overwrite: bool = False,
    ) -> None:
        key = name.lower()
        if database is None and key in self._temps:
            self._insert_temp(key, obj, overwrite)
            return
        if database is not None:
            self._not_in_unit(f"insert({name!r}, database={database!r})")
            super().insert(name, obj, database=database, overwrite=overwrite)
            return
        target = self.table(name)
        if self._unit is None and not overwrite:
            # a plain append: Spark's job commit publishes the new files or none of them
            self._frame(obj, target.schema()).write.insertInto(target.get_name())
            return
        held = None if isinstance(obj, ir.Table) else f"_segmint_rows_{uuid.uuid4().hex[:12]}"
        try:
            rows = obj if held is None else self._create_temp(held, obj, None, overwrite=True)
            rows = _conform(rows, target.schema())
            self.create_table(name, rows if overwrite else target.union(rows), overwrite=True)
        finally:
            if held is not None:
                self.drop_table(held)

    def drop_table(self, name: str, /, *, database: Any = None, force: bool = False) -> None:
        key = name.lower()
        if database is None and key in self._temps:
            self._session.catalog.dropTempView(key)
            del self._temps[key]
            return
        if database is not None:
            self._not_in_unit(f"drop_table({name!r}, database={database!r})")
            super().drop_table(name, database=database, force=force)
            return
        if not self._exists(name):
            if force:
                return
            raise com.TableNotFound(name)
        if self._unit is None:
            self._drop(name)  # one catalogue operation: atomic on its own
        else:
            self._stage(self._unit, name, None)

    def rename_table(self, old_name: str, new_name: str) -> None:
        if self._unit is None:
            self._rename(old_name, new_name)  # one catalogue operation: atomic on its own
            return
        self.create_table(new_name, self.table(old_name), overwrite=True)
        self.drop_table(old_name)

    def _not_in_unit(self, what: str) -> None:
        if self._unit is not None:
            raise EngineError(
                f"{what} inside a unit of work: only tables of the engine's own database are "
                "staged on Spark; write other databases outside engine.transaction()"
            )

    def _stage(self, unit: _Unit, name: str, staged: str | None) -> None:
        previous = unit.targets.get(name.lower())
        if previous is not None:  # still readable by expressions built earlier in the unit
            unit.superseded.append(previous)
        unit.targets[name.lower()] = staged

    # -- temp tables ---------------------------------------------------------------------
    def _create_temp(self, name: str, obj: Any, schema: Any, overwrite: bool) -> ir.Table:
        key = name.lower()
        if key in self._temps and not overwrite:
            raise EngineError(f"temp table {name!r} already exists: pass overwrite=True")
        if obj is None:
            frame = self._session.createDataFrame([], PySparkSchema.from_ibis(ibis.schema(schema)))
        else:
            frame = self._frame(obj, ibis.schema(schema) if schema is not None else None)
        self._temps[key] = [frame.localCheckpoint()]
        self._publish_temp(key)
        return super().table(key)

    def _publish_temp(self, key: str) -> None:
        parts = self._temps[key]
        if len(parts) > _MAX_TEMP_PARTS:
            parts[:] = [self._union(parts).localCheckpoint()]
        self._union(parts).createOrReplaceTempView(key)

    @staticmethod
    def _union(parts: list[DataFrame]) -> DataFrame:
        frame = parts[0]
        for part in parts[1:]:
            frame = frame.unionByName(part)
        return frame

    def _insert_temp(self, key: str, obj: Any, overwrite: bool) -> None:
        schema = super().table(key).schema()
        part = self._frame(obj, schema).localCheckpoint()
        self._temps[key] = [part] if overwrite else [*self._temps[key], part]
        self._publish_temp(key)

    # -- units of work ------------------------------------------------------------------
    @contextlib.contextmanager
    def unit_of_work(self) -> Iterator[_Unit]:
        """Join the running unit of work, or run one: publish all its writes or none."""
        if self._unit is not None:
            yield self._unit
            return
        unit = _Unit(uuid.uuid4().hex[:8])
        self._unit = unit
        _IN_FLIGHT.add(unit.id)
        try:
            try:
                yield unit
            finally:
                self._unit = None
            self._publish(unit)
        except Exception as e:
            _IN_FLIGHT.discard(unit.id)
            with contextlib.suppress(Exception):  # else the next connect does it
                self.recover()  # drops what the unit staged; completes a committed one
            if isinstance(e, _PublishError):
                raise EngineError(str(e)) from e.__cause__
            raise
        finally:
            _IN_FLIGHT.discard(unit.id)

    def _publish(self, unit: _Unit) -> None:
        plan = list(unit.targets.items())
        log = f"{LOG_PREFIX}{unit.id}" if len(plan) > 1 else None
        if log is not None:
            self._write_log(log, plan)  # the commit point
        try:
            self._apply(unit.id, plan)
        except Exception as e:
            if log is None:
                raise
            raise _PublishError(
                f"publishing unit of work {unit.id} failed after its commit point ({e}); "
                "it was completed from its publish log, or is when the project is next "
                "opened (engine.recover() does it now)"
            ) from e
        for staged in unit.superseded:
            self._drop(staged)
        if log is not None:
            self._drop(log)

    def _write_log(self, log: str, plan: list[tuple[str, str | None]]) -> None:
        rows = pa.table(
            {
                "target": [t for t, _ in plan],
                "staged": pa.array([s for _, s in plan], pa.string()),
                "entries": pa.array([len(plan)] * len(plan), pa.int64()),
            }
        )
        self._frame(rows).coalesce(1).write.saveAsTable(log, format="parquet", mode="error")

    def _read_log(self, log: str) -> list[tuple[str, str | None]] | None:
        """The plan in ``log``, or None if the log is incomplete (never committed)."""
        try:
            rows = self._session.table(log).collect()
        except Exception:
            return None
        if not rows or len(rows) != rows[0].entries:
            return None
        return [(r.target, r.staged) for r in rows]

    def _apply(self, unit_id: str, plan: list[tuple[str, str | None]]) -> None:
        """Swap every staged table into place; idempotent, so recovery can repeat it."""
        stored = set(self._stored_tables())
        backups = [b for t, _ in plan if (b := f"{BACKUP_PREFIX}{unit_id}_{t}") in stored]
        for target, staged in plan:
            if staged is None:
                if target in stored:
                    self._drop(target)
            elif staged in stored:  # else: published before a crash
                if target in stored:
                    backups.append(f"{BACKUP_PREFIX}{unit_id}_{target}")
                    self._rename(target, backups[-1])
                self._rename(staged, target)
        for backup in backups:
            self._drop(backup)

    def _rename(self, old: str, new: str) -> None:
        self._session.sql(f"ALTER TABLE {_quote(old)} RENAME TO {_quote(new)}")

    def _drop(self, name: str) -> None:
        self._session.sql(f"DROP TABLE IF EXISTS {_quote(name)}")

    def recover(self) -> dict[str, int]:
        """Finish or undo the units of work a crash interrupted, in the current database.

        A unit with a complete publish log is rolled forward; anything else is rolled
        back: its staging tables are dropped and backups renamed back into place.
        Units running in this process are left alone.
        """
        done = {"rolled_forward": 0, "staged_dropped": 0, "restored": 0}
        for name in self._stored_tables():
            m = _LOG.match(name)
            if m is None or m.group(1) in _IN_FLIGHT:
                continue
            plan = self._read_log(name)
            if plan is not None:
                self._apply(m.group(1), plan)
                done["rolled_forward"] += 1
            self._drop(name)
        stored = self._stored_tables()
        for name in stored:
            staged, backup = _STAGED.match(name), _BACKUP.match(name)
            if staged is not None and staged.group(1) not in _IN_FLIGHT:
                self._drop(name)
                done["staged_dropped"] += 1
            elif backup is not None and backup.group(1) not in _IN_FLIGHT:
                if backup.group(2) in stored:
                    self._drop(name)
                else:
                    self._rename(name, backup.group(2))
                    done["restored"] += 1
        self._remove_orphan_files(set(self._stored_tables()))
        return done

    def _remove_orphan_files(self, stored: set[str]) -> None:
        """A crash while Spark writes a staging table leaves files and no table: delete them
        (local warehouses only; on a cluster file system they are merely unused)."""
        rows = self._session.sql(f"DESCRIBE DATABASE {_quote(self.current_database)}").collect()
        location = next((r[1] for r in rows if r[0] == "Location"), "")
        parsed = urlparse(location)
        if parsed.scheme not in ("", "file"):
            return
        folder = Path(parsed.path)
        if not folder.is_dir():
            return
        for child in folder.iterdir():
            m = _STAGED.match(child.name) or _LOG.match(child.name)
            if m and m.group(1) not in _IN_FLIGHT and child.name not in stored:
                shutil.rmtree(child, ignore_errors=True)


# -- the engine ---------------------------------------------------------------------------
class SparkEngine(Engine):
    """Spark through Ibis: staged units of work published by table swaps.

    Parameters
    ----------
    con
        The connected :class:`SparkBackend` (its own child session).
    url
        The URL it was connected from.
    options
        The parsed URL.
    """

    name: ClassVar[str] = "spark"
    con: SparkBackend

    def __init__(self, con: SparkBackend, url: str, options: SparkOptions) -> None:
        super().__init__(con, url)
        self.options = options

    @property
    def database(self) -> str:
        return self.options.database

    @property
    def session(self) -> SparkSession:
        """This engine's Spark session (a child of the process' one)."""
        return self.con.session

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Stage every write; publish them all by swapping tables in, or none on error."""
        with self.con.unit_of_work():
            yield

    def create_temp(self, name: str, obj: ir.Table | pa.Table) -> None:
        """Create or replace a temp table private to this engine (kept until closed)."""
        self.con.create_table(name, obj, temp=True, overwrite=True)

    def insert(self, name: str, obj: ir.Table | pa.Table) -> None:
        """Append ``obj`` to table or temp table ``name`` (columns matched by name)."""
        self.con.insert(name, obj)

    def recover(self) -> dict[str, int]:
        """Finish or undo interrupted units of work (done on every connect)."""
        return self.con.recover()

    def close(self) -> None:
        with contextlib.suppress(Exception):  # Spark may be stopped already
            self.con.disconnect()


def connect_spark(url: str, base_dir: Path) -> SparkEngine:
    """Connect to the Spark at ``url``, reusing this process' Spark context if it runs."""
    options = spark_options(url, base_dir)
    if getattr(ibis.options, "pyspark", None) is None:  # set when ibis.pyspark is first used
        SparkBackend.register_options()
    shared = spark_session(options)
    session = shared.newSession()
    for key, value in options.conf.items():
        if session.conf.isModifiable(key):
            session.conf.set(key, value)
    con = SparkBackend().connect(session)
    try:
        session.sql(f"CREATE DATABASE IF NOT EXISTS {_quote(options.database)}")
    except Exception as e:
        if "derby" in str(e).lower() or "metastore" in str(e).lower():
            raise EngineError(
                f"cannot open the Spark metastore at {options.metastore} ({e}): the embedded "
                "metastore serves one process at a time; close the other segmint process "
                "using this project, or configure a shared metastore (metastore=external)"
            ) from e
        raise
    session.catalog.setCurrentDatabase(options.database)
    con.recover()
    return SparkEngine(con, url, options)


register_engine("spark", connect_spark)
