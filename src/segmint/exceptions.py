"""One error tree for segmint.

Every error also inherits the built-in exception a Python user would expect, so callers can
catch ``ValueError`` or ``FileNotFoundError`` without knowing segmint's names.  Messages say
what was wrong, where (file, row, column, config key) and how to fix it.
"""

from __future__ import annotations


class SegmintError(Exception):
    """Base class of every error segmint raises on purpose."""


class ConfigError(SegmintError, ValueError):
    """``segmint.yaml`` (or a definition in it) is invalid."""


class ProjectNotFoundError(SegmintError, FileNotFoundError):
    """The folder is not a segmint project (no ``segmint.yaml``)."""


class ProjectExistsError(SegmintError, FileExistsError):
    """``segmint init`` was pointed at a folder that already holds a project."""


class EngineError(SegmintError, RuntimeError):
    """The engine URL is unknown, or the engine cannot do what was asked."""


class InputError(SegmintError, ValueError):
    """An input file cannot be read at all (not a row-level problem).

    Row-level problems never raise: the rows go to quarantine with file, row, column and
    reason.  This error is for files that are missing, empty, of an unknown format, or
    whose columns cannot be mapped to the fields a table requires.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        where = ", ".join(
            part
            for part in (
                f"file {file}" if file else "",
                f"row {row}" if row is not None else "",
                f"column {column!r}" if column else "",
            )
            if part
        )
        super().__init__(f"{where}: {message}" if where else message)
        self.file = file
        self.row = row
        self.column = column


class UnknownTableError(SegmintError, KeyError):
    """A table name that is neither an entity of the data model nor an external table."""

    def __str__(self) -> str:  # KeyError quotes its argument; we want the plain message
        return str(self.args[0])


class CustomerNotFoundError(SegmintError, LookupError):
    """No customer with that id in the project."""


class SegmentNotFoundError(SegmintError, LookupError):
    """No segment of that name in the project."""
