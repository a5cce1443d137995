"""A project: a folder with ``segmint.yaml`` and its store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from segmint.config import (
    CONFIG_FILE,
    SCHEMA_FILE,
    EngineConfig,
    ProjectConfig,
    load_config,
    save_config,
    write_json_schema,
)
from segmint.engine import Engine, connect
from segmint.exceptions import ProjectExistsError, ProjectNotFoundError


class Project:
    """An opened project. Use :meth:`open` or :meth:`create`; close it (or use ``with``).

    Parameters
    ----------
    root
        The project folder.
    config
        Its parsed ``segmint.yaml``.
    """

    def __init__(self, root: Path, config: ProjectConfig) -> None:
        self.root = root
        self.config = config
        self._engine: Engine | None = None

    @classmethod
    def open(cls, root: Path | str) -> Project:
        root = Path(root).resolve()
        path = root / CONFIG_FILE
        if not path.exists():
            raise ProjectNotFoundError(
                f"{root} is not a segmint project (no {CONFIG_FILE}): run 'segmint init {root}' "
                "or pass --project DIR"
            )
        return cls(root, load_config(path))

    @classmethod
    def create(
        cls, root: Path | str, *, name: str | None = None, engine_url: str | None = None
    ) -> Project:
        root = Path(root).resolve()
        if (root / CONFIG_FILE).exists():
            raise ProjectExistsError(f"{root} already holds a segmint project ({CONFIG_FILE})")
        root.mkdir(parents=True, exist_ok=True)
        config = ProjectConfig(name=name or root.name)
        if engine_url:
            config.engine = EngineConfig(url=engine_url)
        project = cls(root, config)
        project.save()
        return project

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_FILE

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = connect(self.config.engine.url, base_dir=self.root)
        return self._engine

    def save(self) -> None:
        """Write ``segmint.yaml`` and its JSON Schema beside it."""
        save_config(self.config, self.config_path)
        write_json_schema(self.root / SCHEMA_FILE)

    def relative(self, path: Path | str) -> str:
        """``path`` relative to the project folder when inside it (portable in git)."""
        p = Path(path).resolve()
        try:
            return str(p.relative_to(self.root))
        except ValueError:
            return str(p)

    def resolve(self, path: str) -> Path:
        p = Path(path)
        return p if p.is_absolute() else self.root / p

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()
            self._engine = None

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
