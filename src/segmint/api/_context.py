"""What every request of one server shares: the project folder, the serving replica, the
auth store, the export jobs, and the project's configuration (re-read when it changes)."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from segmint.api._auth import AuthStore
from segmint.api._jobs import ExportJobs
from segmint.config import CONFIG_FILE, ProjectConfig, load_config
from segmint.project import Project
from segmint.serving import ServingStore


class ServerContext:
    """One project's server state (``app.state.ctx``)."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).resolve()
        Project.open(self.root)  # a clear error now if the folder is not a project
        self.store = ServingStore(self.root)
        self.auth = AuthStore(self.root)
        self.jobs = ExportJobs(self.root)
        self.config_lock = threading.Lock()
        self._config: ProjectConfig | None = None
        self._config_mtime = -1

    def config(self) -> ProjectConfig:
        """The project's ``segmint.yaml`` (read again when the file changed)."""
        path = self.root / CONFIG_FILE
        mtime = os.stat(path).st_mtime_ns
        if self._config is None or mtime != self._config_mtime:
            self._config = load_config(path)
            self._config_mtime = mtime
        return self._config

    @contextlib.contextmanager
    def project(self) -> Iterator[Project]:
        """The project with the serving replica as its (read-only) engine."""
        with self.store.engine() as engine:
            project = Project(self.root, self.config().model_copy(deep=True))
            project._engine = engine
            yield project

    @contextlib.contextmanager
    def live_config(self) -> Iterator[Project]:
        """The project for a change of ``segmint.yaml`` only (its store is not opened);
        one change at a time. Combine with :meth:`project` to check against the replica."""
        with self.config_lock:
            yield Project.open(self.root)

    def close(self) -> None:
        self.jobs.close()
        self.store.close()
