"""Spark's options and its one context per process, for the Spark engine (``_spark.py``).

A ``spark://`` URL names the master and carries engine options and ``spark.*`` settings;
:func:`spark_options` reads them (with errors that name the bad key).  Starting Spark
takes 10-20 s, so this process runs one Spark context (:func:`spark_session`), with a
Hive metastore (embedded Derby in the project folder unless ``metastore=external``) and
the warehouse where the project's tables live; each engine works in a child session.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from segmint.exceptions import EngineError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

_DATABASE = re.compile(r"^[a-z_][a-z0-9_]*$")
#: engine options a URL may carry besides ``spark.*`` settings
OPTIONS = frozenset({"warehouse", "metastore", "database"})


# -- options ------------------------------------------------------------------------------
@dataclass(frozen=True)
class SparkOptions:
    """What a ``spark://`` URL asks for.

    Attributes
    ----------
    master
        The Spark master: ``local[2]``, ``spark://host:7077``, ``yarn``, ``k8s://...``.
    warehouse
        Where managed tables live (a local path or a URI such as ``hdfs://...``).
    metastore
        Folder of the embedded Derby metastore, or None to use the cluster's own
        (``metastore=external``: hive-site.xml on Spark's classpath).
    database
        The Spark database holding the project's tables (created if missing).
    conf
        Every Spark setting for the session, segmint's defaults included.
    """

    master: str
    warehouse: str
    metastore: Path | None
    database: str
    conf: dict[str, str] = field(default_factory=dict)
    requested: frozenset[str] = frozenset()


def spark_master(url: str) -> str:
    """``spark://local[2]`` -> ``local[2]``; ``spark://host:7077`` -> the URL itself."""
    rest = url.removeprefix("spark://").partition("?")[0].rstrip("/")
    if not rest:
        raise EngineError(
            f"engine URL {url!r} names no Spark master: write spark://local[2] (Spark in this "
            "process), spark://HOST:7077 (a standalone cluster), spark://yarn or spark://k8s://..."
        )
    if rest.startswith("local") or rest == "yarn" or "://" in rest:
        return rest
    return f"spark://{rest}"


def _local_cores(master: str) -> int:
    m = re.fullmatch(r"local\[(\d+|\*)(?:,\d+)?\]", master)
    if m is None or m.group(1) == "*":
        return 1 if master == "local" else os.cpu_count() or 1
    return int(m.group(1))


def spark_options(url: str, base_dir: Path) -> SparkOptions:
    """Parse ``url``; relative warehouse and metastore paths resolve against ``base_dir``.

    Unknown options are an error (a typo would otherwise be ignored silently); every
    ``spark.*`` key is passed to Spark as is.
    """
    master = spark_master(url)
    query = url.partition("?")[2]
    given = dict(parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query)))
    unknown = sorted(k for k in given if k not in OPTIONS and not k.startswith("spark."))
    if unknown:
        raise EngineError(
            f"unknown Spark engine option(s) {', '.join(unknown)} in engine URL {url!r}; use "
            f"{', '.join(sorted(OPTIONS))} or a Spark setting (spark.sql.shuffle.partitions=8)"
        )

    def project_path(value: str) -> str:
        if "://" in value:  # hdfs://, s3a://, file://: the cluster decides
            return value
        p = Path(value).expanduser()
        return str((p if p.is_absolute() else base_dir / p).resolve())

    warehouse = project_path(given.pop("warehouse", "spark-warehouse"))
    meta = given.pop("metastore", "spark-metastore")
    metastore = None if meta == "external" else Path(project_path(meta))
    database = given.pop("database", "default").lower()
    if not _DATABASE.match(database):
        raise EngineError(
            f"Spark database name {database!r} in engine URL {url!r} is not valid: use "
            "letters, digits and underscores, starting with a letter"
        )

    conf = {
        "spark.master": master,
        "spark.app.name": "segmint",
        "spark.sql.warehouse.dir": warehouse,
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.ui.showConsoleProgress": "false",
        "spark.log.level": "ERROR",
        # look tables up afresh in every query: another engine may have swapped them
        "spark.sql.filesourceTableRelationCacheSize": "0",
    }
    if master.startswith("local"):
        cores = _local_cores(master)
        conf["spark.sql.shuffle.partitions"] = str(max(1, cores))
        conf["spark.default.parallelism"] = str(max(1, cores))
        conf["spark.ui.enabled"] = "false"
        conf["spark.pyspark.python"] = sys.executable  # Python UDFs run in this environment
    conf["spark.sql.catalogImplementation"] = "hive"  # tables outlive the process
    if metastore is not None:
        conf["spark.hadoop.javax.jdo.option.ConnectionURL"] = (
            f"jdbc:derby:;databaseName={metastore / 'metastore_db'};create=true"
        )
        # Derby writes derby.log into the working folder unless told otherwise
        derby = f"-Dderby.stream.error.file={metastore / 'derby.log'}"
        extra = given.pop("spark.driver.extraJavaOptions", "")
        conf["spark.driver.extraJavaOptions"] = f"{extra} {derby}".strip()
    conf.update(given)
    return SparkOptions(master, warehouse, metastore, database, conf, frozenset(given))


# -- the one Spark context of this process -----------------------------------------------
def _same(key: str, have: str | None, want: str) -> bool:
    if have == want:
        return True
    if key == "spark.sql.warehouse.dir" and have is not None:
        return have.removeprefix("file:").rstrip("/") == want.removeprefix("file:").rstrip("/")
    return False


def _metastore_in_use(metastore: Path) -> bool:
    """Whether another JVM has the embedded Derby metastore open (it locks dbex.lck)."""
    lock = metastore / "metastore_db" / "dbex.lck"
    if not lock.exists():
        return False
    try:
        import fcntl
    except ImportError:  # Windows: Hive's own error says it, after its retries
        return False
    with lock.open("r+b") as f:
        try:
            fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.lockf(f, fcntl.LOCK_UN)
    return False


def spark_session(options: SparkOptions) -> SparkSession:
    """The process' Spark session, started with ``options`` if none runs yet.

    Raises
    ------
    EngineError
        Java is missing, or Spark already runs here with settings that cannot change
        (master, warehouse, metastore, ...).
    """
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    running = SparkContext._active_spark_context
    if running is None:
        if options.metastore is not None:
            if _metastore_in_use(options.metastore):
                raise EngineError(
                    f"the Spark metastore {options.metastore} is in use by another process: "
                    "the embedded metastore serves one process at a time. Close the other "
                    "segmint process on this project, or use a shared metastore "
                    "(?metastore=external, with hive-site.xml on Spark's classpath)"
                )
            options.metastore.mkdir(parents=True, exist_ok=True)
        builder = SparkSession.builder
        for key, value in options.conf.items():
            builder = builder.config(key, value)
        try:
            return builder.getOrCreate()
        except Exception as e:  # pyspark raises its own error types for a missing JVM
            if "JAVA" in str(e).upper():
                raise EngineError(
                    f"cannot start Spark ({e}): Spark needs Java 17 or later. Install it "
                    "(apt install openjdk-17-jre-headless) or set JAVA_HOME"
                ) from e
            raise
    session = SparkSession.builder.getOrCreate()
    have = running.getConf()
    static = {
        "spark.master",
        "spark.sql.warehouse.dir",
        "spark.sql.catalogImplementation",
        "spark.hadoop.javax.jdo.option.ConnectionURL",
    }
    for key, want in options.conf.items():
        fixed = key in static or (key in options.requested and not session.conf.isModifiable(key))
        if fixed and not _same(key, have.get(key), want):
            raise EngineError(
                f"Spark already runs in this process with {key}={have.get(key)}, but the "
                f"engine URL asks for {want}. One process runs one Spark session: use the same "
                "master, warehouse and metastore (point projects at one warehouse with "
                "?warehouse=...&metastore=... and tell them apart with ?database=...), or open "
                "this project in its own process"
            )
    return session


def stop_spark() -> None:
    """Stop this process' Spark context (engines keep it running; tests stop it at the end)."""
    from pyspark import SparkContext

    running = SparkContext._active_spark_context
    if running is not None:
        running.stop()
