"""Spark parity fixtures: one Spark session for the whole run, a fresh database per test.

``engines`` runs a test on DuckDB and on Spark; its Spark case is marked ``spark``, so
``pytest -m "not spark"`` runs only the DuckDB half and ``pytest -m spark`` only Spark.
Spark starts once (10-20 s) and stops when the run ends; each Spark test gets its own
database, dropped afterwards, so tests never see each other's tables.

Without pyspark the Spark cases skip, saying so; with pyspark but no Java 17+ they fail,
saying how to install it (a silently skipped parity suite proves nothing).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from segmint.engine import Engine, connect

if TYPE_CHECKING:
    from segmint.engine._spark import SparkEngine

MASTER = "local[2]"


def _require_java() -> None:
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if java is None or not Path(java).exists():
        pytest.fail(
            "Spark tests need Java 17 or later and found no `java` (JAVA_HOME or PATH): "
            "install it (apt install openjdk-17-jre-headless) or set JAVA_HOME, or deselect "
            "them with -m 'not spark'",
            pytrace=False,
        )
    out = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    m = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    major = 0 if m is None else int(m.group(2) if m.group(1) == "1" else m.group(1))
    if major < 17:
        pytest.fail(
            f"Spark tests need Java 17 or later; {java} is version {major or 'unknown'}: "
            "install openjdk-17 and put it first on PATH (or set JAVA_HOME)",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def spark_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder holding the test run's Spark warehouse and metastore."""
    return tmp_path_factory.mktemp("spark")


@pytest.fixture(scope="session")
def spark_engine(spark_home: Path) -> Iterator[SparkEngine]:
    """The run's Spark engine (database ``default``); Spark stops when the run ends."""
    pytest.importorskip("pyspark", reason="pyspark is not installed: pip install 'segmint[spark]'")
    _require_java()
    from segmint.engine._spark import connect_spark
    from segmint.engine._spark_session import stop_spark

    engine = connect_spark(f"spark://{MASTER}", spark_home)
    try:
        yield engine
    finally:
        engine.close()
        stop_spark()


@pytest.fixture
def spark_url(spark_engine: SparkEngine, spark_home: Path) -> Iterator[str]:
    """A ``spark://`` URL for a fresh database on the run's Spark; dropped after the test.

    Use it where a test needs a URL (``Project.create(..., engine_url=spark_url)``).
    """
    database = f"t_{uuid.uuid4().hex[:10]}"
    options = spark_engine.options
    yield (
        f"spark://{MASTER}?warehouse={options.warehouse}&metastore={options.metastore}"
        f"&database={database}"
    )
    spark_engine.session.sql(f"DROP DATABASE IF EXISTS {database} CASCADE")


@pytest.fixture
def spark(spark_url: str, spark_home: Path) -> Iterator[SparkEngine]:
    """A fresh Spark engine on its own database."""
    from segmint.engine._spark import connect_spark

    engine = connect_spark(spark_url, spark_home)
    yield engine
    engine.close()


@pytest.fixture(params=["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def engines(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A fresh engine: in-memory DuckDB, then Spark (marked ``spark``)."""
    if request.param == "spark":
        yield request.getfixturevalue("spark")
        return
    engine = connect("duckdb:///:memory:")
    yield engine
    engine.close()
