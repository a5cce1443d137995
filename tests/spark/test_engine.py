"""The Spark engine: URLs, staged units of work, swaps, crash recovery, temp tables and
persistence across engines and processes."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import ibis
import pyarrow as pa
import pytest

pytest.importorskip("pyspark", reason="pyspark is not installed: pip install 'segmint[spark]'")

from segmint.engine import connect
from segmint.engine._spark import (
    SparkBackend,
    SparkEngine,
    connect_spark,
)
from segmint.engine._spark_session import spark_master, spark_options
from segmint.exceptions import EngineError

pytestmark = pytest.mark.spark


class SimulatedCrash(BaseException):
    """The process dies here: nothing after it runs, no handler cleans up."""


def _values(engine: SparkEngine, name: str) -> dict[str, list[object]]:
    return engine.table(name).order_by("_key").to_pyarrow().to_pydict()


def _tables(engine: SparkEngine) -> list[str]:
    """The engine's tables, without the views Ibis registers for in-memory data."""
    return [t for t in engine.con.list_tables() if not t.startswith("ibis_")]


def _internal(engine: SparkEngine) -> list[str]:
    return [t for t in engine.con._stored_tables() if t.startswith("_segmint_")]


# -- URLs ---------------------------------------------------------------------------------
def test_urls_name_the_master_the_warehouse_and_spark_settings(tmp_path: Path) -> None:
    assert spark_master("spark://local[2]") == "local[2]"
    assert spark_master("spark://local[*]?database=x") == "local[*]"
    assert spark_master("spark://host:7077") == "spark://host:7077"
    assert spark_master("spark://yarn") == "yarn"
    assert spark_master("spark://k8s://https://k8s.example:443") == "k8s://https://k8s.example:443"
    with pytest.raises(EngineError, match="names no Spark master"):
        spark_master("spark://")

    opts = spark_options("spark://local[2]", tmp_path)
    assert opts.warehouse == str(tmp_path / "spark-warehouse")
    assert opts.metastore == tmp_path / "spark-metastore"
    assert opts.database == "default"
    assert opts.conf["spark.sql.session.timeZone"] == "UTC"
    assert opts.conf["spark.sql.execution.arrow.pyspark.enabled"] == "true"
    assert opts.conf["spark.sql.shuffle.partitions"] == "2"
    assert opts.conf["spark.sql.catalogImplementation"] == "hive"

    opts = spark_options(
        "spark://host:7077?warehouse=hdfs://nn/wh&metastore=external&database=Shop"
        "&spark.sql.shuffle.partitions=64&spark.executor.memory=8g",
        tmp_path,
    )
    assert (opts.master, opts.warehouse, opts.metastore, opts.database) == (
        "spark://host:7077",
        "hdfs://nn/wh",
        None,
        "shop",
    )
    assert opts.conf["spark.sql.shuffle.partitions"] == "64"
    assert opts.conf["spark.executor.memory"] == "8g"
    assert "spark.hadoop.javax.jdo.option.ConnectionURL" not in opts.conf  # hive-site.xml's
    assert "spark.ui.enabled" not in opts.conf  # a cluster keeps its UI

    assert spark_options("spark://local[1]?warehouse=wh", tmp_path).warehouse == str(
        tmp_path / "wh"
    )
    with pytest.raises(EngineError, match=r"unknown Spark engine option\(s\) wharehouse"):
        spark_options("spark://local[2]?wharehouse=x", tmp_path)
    with pytest.raises(EngineError, match="database name 'my-db'"):
        spark_options("spark://local[2]?database=my-db", tmp_path)


def test_connect_reuses_the_running_spark_and_refuses_other_static_settings(
    spark_url: str, tmp_path: Path
) -> None:
    engine = connect(spark_url)
    assert isinstance(engine, SparkEngine)
    assert engine.name == "spark"
    assert engine.session.catalog.currentDatabase() == engine.database
    assert engine.session.conf.get("spark.sql.session.timeZone") == "UTC"
    assert engine.session.conf.get("spark.sql.execution.arrow.pyspark.enabled") == "true"
    assert engine.session.conf.get("spark.sql.shuffle.partitions") == "2"
    engine.close()
    with pytest.raises(
        EngineError, match=r"already runs in this process with spark\.sql\.warehouse\.dir"
    ):
        connect("spark://local[2]", base_dir=tmp_path)  # another warehouse
    with pytest.raises(EngineError, match=r"with spark\.master=local\[2\]"):
        connect(spark_url.replace("local[2]", "local[1]"))


# -- units of work ------------------------------------------------------------------------
def test_merge_and_transaction_rollback(spark: SparkEngine) -> None:
    spark.write("t", pa.table({"_key": ["a", "b"], "v": [1, 2]}))
    spark.merge("t", ibis.memtable(pa.table({"_key": ["b", "c"], "v": [20, 30]})))
    assert _values(spark, "t") == {"_key": ["a", "b", "c"], "v": [1, 20, 30]}

    def crashing_unit() -> None:
        with spark.transaction():
            spark.merge("t", ibis.memtable(pa.table({"_key": ["a", "d"], "v": [0, 4]})))
            spark.write("u", pa.table({"x": [1]}))
            with spark.transaction():  # nested: part of the same unit
                spark.append("u", pa.table({"x": [2]}))
            assert sorted(spark.table("u").x.to_pyarrow().to_pylist()) == [1, 2]
            raise RuntimeError("crash")

    with pytest.raises(RuntimeError, match="crash"):
        crashing_unit()
    assert _values(spark, "t")["v"] == [1, 20, 30]
    assert not spark.has_table("u")
    assert _internal(spark) == []


def test_a_unit_is_invisible_to_other_engines_until_it_publishes(
    spark: SparkEngine, spark_url: str, spark_home: Path
) -> None:
    spark.write("t", pa.table({"_key": ["a"], "v": [1]}))
    reader = connect_spark(spark_url, spark_home)
    with spark.transaction():
        # a table rewritten from itself: Spark refuses to overwrite what it reads, staging
        # makes it a new table
        t = spark.table("t")
        spark.write("t", t.mutate(v=t.v + 1).union(ibis.memtable({"_key": ["b"], "v": [5]})))
        spark.append("log", pa.table({"n": [1]}))
        spark.drop("nothing")  # a missing table: nothing to do
        assert _tables(spark) == ["log", "t"]
        assert _values(spark, "t") == {"_key": ["a", "b"], "v": [2, 5]}
        assert _tables(reader) == ["t"]
        assert _values(reader, "t") == {"_key": ["a"], "v": [1]}
        spark.drop("log")
        assert not spark.has_table("log")
    assert _values(reader, "t") == {"_key": ["a", "b"], "v": [2, 5]}
    assert _tables(reader) == ["t"]
    assert _internal(spark) == []
    spark.append("t", pa.table({"v": [7], "_key": ["c"]}))  # by name, outside a unit
    assert _values(reader, "t")["v"] == [2, 5, 7]
    reader.close()


def test_a_crash_after_the_commit_point_is_rolled_forward(
    spark: SparkEngine, spark_url: str, spark_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spark.write("a", pa.table({"_key": ["old"], "v": [0]}))
    spark.write("gone", pa.table({"x": [1]}))
    renames = []
    real_rename = SparkBackend._rename

    def dying_rename(self: SparkBackend, old: str, new: str) -> None:
        renames.append((old, new))
        if len(renames) == 2:  # 'a' is backed up, its new version not yet in place
            raise SimulatedCrash
        real_rename(self, old, new)

    monkeypatch.setattr(SparkBackend, "_rename", dying_rename)

    def unit() -> None:
        with spark.transaction():
            spark.write("a", pa.table({"_key": ["new"], "v": [1]}))
            spark.write("b", pa.table({"_key": ["new"], "v": [2]}))
            spark.drop("gone")

    with pytest.raises(SimulatedCrash):
        unit()
    monkeypatch.setattr(SparkBackend, "_rename", real_rename)
    assert not spark.has_table("a")  # the crash left the store half published
    assert any(t.startswith("_segmint_publish_") for t in _internal(spark))

    restarted = connect_spark(spark_url, spark_home)  # recovery runs on connect
    assert _values(restarted, "a") == {"_key": ["new"], "v": [1]}
    assert _values(restarted, "b") == {"_key": ["new"], "v": [2]}
    assert _tables(restarted) == ["a", "b"]
    assert _internal(restarted) == []
    restarted.close()


def test_a_crash_before_the_commit_point_is_rolled_back(
    spark: SparkEngine, spark_url: str, spark_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spark.write("a", pa.table({"_key": ["old"], "v": [0]}))
    real_rename = SparkBackend._rename

    def dying_rename(self: SparkBackend, old: str, new: str) -> None:
        if not old.startswith("_segmint_tx_"):  # 'a' backed up; its new version not in place
            real_rename(self, old, new)
        raise SimulatedCrash

    monkeypatch.setattr(SparkBackend, "_rename", dying_rename)
    with pytest.raises(SimulatedCrash):
        spark.write("a", pa.table({"_key": ["new"], "v": [1]}))  # one table: no publish log
    monkeypatch.setattr(SparkBackend, "_rename", real_rename)
    assert not spark.has_table("a")

    restarted = connect_spark(spark_url, spark_home)  # recovery runs on connect
    assert restarted.recover() == {"rolled_forward": 0, "staged_dropped": 0, "restored": 0}
    restarted.close()
    assert _values(spark, "a") == {"_key": ["old"], "v": [0]}
    assert _internal(spark) == []


def test_a_failure_while_publishing_is_repaired_at_once(
    spark: SparkEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_rename = SparkBackend._rename
    calls = []

    def flaky_rename(self: SparkBackend, old: str, new: str) -> None:
        calls.append(old)
        if len(calls) == 1:
            raise RuntimeError("metastore timeout")
        real_rename(self, old, new)

    monkeypatch.setattr(SparkBackend, "_rename", flaky_rename)

    def unit() -> None:
        with spark.transaction():
            spark.write("a", pa.table({"_key": ["x"], "v": [1]}))
            spark.write("b", pa.table({"_key": ["y"], "v": [2]}))

    with pytest.raises(EngineError, match="after its commit point"):
        unit()
    assert (spark.count("a"), spark.count("b")) == (1, 1)
    assert _internal(spark) == []


# -- temp tables, persistence -------------------------------------------------------------
def test_temp_tables_are_private_to_their_engine(
    spark: SparkEngine, spark_url: str, spark_home: Path
) -> None:
    # what ingest does with a staging table
    spark.con.create_table("stage", pa.table({"k": ["a"], "n": [1]}), temp=True, overwrite=True)
    spark.con.insert("stage", pa.table({"n": [2], "k": ["b"]}))
    spark.insert("stage", spark.table("stage").filter(lambda t: t.n == 1))
    assert sorted(spark.table("stage").n.to_pyarrow().to_pylist()) == [1, 1, 2]
    spark.create_temp("stage", pa.table({"k": ["z"], "n": [9]}))  # replaced
    spark.write("also", spark.table("stage"), temp=True)
    assert spark.table("also").to_pyarrow().to_pydict() == {"k": ["z"], "n": [9]}
    assert {"also", "stage"} <= set(spark.con.list_tables())
    assert _internal(spark) == []  # nothing in the warehouse

    other = connect_spark(spark_url, spark_home)
    assert not other.has_table("stage")
    other.close()
    spark.drop("stage")
    assert not spark.has_table("stage")
    spark.close()
    assert not spark.has_table("also")


def test_tables_outlive_their_engine(spark: SparkEngine, spark_url: str, spark_home: Path) -> None:
    with spark.transaction():
        spark.write("customers", pa.table({"_key": ["1", "2"], "name": ["Åse", None]}))
        spark.write("loads", pa.table({"n": [1]}))
    spark.close()
    again = connect_spark(spark_url, spark_home)
    assert _tables(again) == ["customers", "loads"]
    assert _values(again, "customers") == {"_key": ["1", "2"], "name": ["Åse", None]}
    again.close()


_RESTART = """
import json, sys
import pyarrow as pa
from pathlib import Path
from segmint.engine._spark import connect_spark
engine = connect_spark("spark://local[1]", Path(sys.argv[1]))
if sys.argv[2] == "write":
    with engine.transaction():
        engine.write("customers", pa.table({"_key": ["1", "2"], "name": ["Åse", None]}))
        engine.merge("customers", engine.table("customers").filter(lambda t: t._key == "2")
                     .mutate(name=__import__("ibis").literal("Bo")))
else:
    t = engine.table("customers").order_by("_key")
    print(json.dumps([engine.con.list_tables(), t.to_pyarrow().to_pydict()]))
"""


def test_a_project_on_spark_survives_a_restart(tmp_path: Path) -> None:
    def run(step: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(_RESTART), str(tmp_path), step],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    run("write")
    assert (tmp_path / "spark-warehouse" / "customers").is_dir()
    assert (tmp_path / "spark-metastore" / "metastore_db").is_dir()
    tables, data = json.loads(run("read").strip().splitlines()[-1])
    assert tables == ["customers"]
    assert data == {"_key": ["1", "2"], "name": ["Åse", "Bo"]}
