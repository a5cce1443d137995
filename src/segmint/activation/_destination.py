"""The one interface every destination implements, and the registry of kinds.

A destination receives an :class:`ExportBatch`: rows the export path has already
filtered for consent and suppression.  It never gets the store or the project, so no
destination can read members around that filter.  Built-in kinds register the same way a
third-party plugin would (:func:`register_destination`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from segmint.exceptions import ConfigError, SegmintError

if TYPE_CHECKING:
    import pyarrow as pa

    from segmint.activation._config import DestinationConfig
    from segmint.activation._ledger import Ledger


class DeliveryError(SegmintError, RuntimeError):
    """A destination did not accept the rows (after its retries); nothing was marked synced."""


@dataclass(frozen=True)
class ExportBatch:
    """What a destination receives.

    Attributes
    ----------
    destination
        Its settings.
    segment, run_id
        Which segment, as published by which run.
    mode
        ``full``: ``rows`` are every exportable member.  ``delta``: ``rows`` are the members
        that entered since the last successful sync here (``change`` = ``entered``) and then
        those that left (``change`` = ``exited``; only ``customer_id`` is filled, except
        for ad audiences, which need the hashed identifiers to remove someone).
    rows
        Arrow table: ``customer_id``, the profile fields (docs/activation.md), ``change``.
    when
        Time of the export (file names, batch metadata).
    root
        The project folder (relative paths are resolved against it).
    ledger
        Progress bookkeeping for destinations that deliver in resumable batches (webhook).
    """

    destination: DestinationConfig
    segment: str
    run_id: str
    mode: Literal["full", "delta"]
    rows: pa.Table
    when: datetime
    root: Path
    ledger: Ledger | None = None


@dataclass(frozen=True)
class Delivery:
    """What a destination did: rows written or sent, and where."""

    sent: int
    location: str


class Destination(Protocol):
    """Delivers one batch; raises :class:`DeliveryError` (or an ``OSError``) on failure."""

    def deliver(self, batch: ExportBatch) -> Delivery: ...


_KINDS: dict[str, Callable[[], Destination]] = {}


def register_destination(kind: str, factory: Callable[[], Destination]) -> None:
    """Make destinations of ``kind`` deliver through ``factory()``."""
    _KINDS[kind] = factory


def destination_for(kind: str) -> Destination:
    from segmint.activation import _builtin  # noqa: F401  (registers the built-in kinds)

    try:
        return _KINDS[kind]()
    except KeyError:
        raise ConfigError(
            f"no destination kind {kind!r}: use one of {', '.join(sorted(_KINDS))}"
        ) from None


def output_path(batch: ExportBatch, suffix: str, name: str | None = None) -> Path:
    """The file a file destination writes: its ``path`` template, or a default."""
    d = batch.destination
    template = d.path or f"exports/{{destination}}/{{segment}}-{{date}}{suffix}"
    text = template.format(
        segment=batch.segment, destination=d.name, date=batch.when.strftime("%Y-%m-%d")
    )
    path = Path(text)
    if name:
        path = path.with_name(f"{path.stem}-{name}{path.suffix}")
    return path if path.is_absolute() else batch.root / path
