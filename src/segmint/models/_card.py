"""Model cards: what was fitted, on which data, with what result; saved as JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any


def _version() -> str:
    try:
        return metadata.version("segmint")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a checkout
        return "unknown"


@dataclass
class ModelCard:
    """A fitted model's record.

    Attributes
    ----------
    model
        "BG/NBD", "Pareto/NBD" or "Gamma-Gamma".
    data
        The data window (first purchase, calibration end, observation end, unit), the
        source, the number of customers and of (compressed) rows fitted.
    parameters, standard_errors
        The estimates and their asymptotic standard errors.
    log_likelihood
        Total log-likelihood at the optimum.
    converged
        Whether the optimiser reached a stationary point inside its bounds.
    validation
        The holdout validation (purchase models), or ``None``.
    fitted_at
        When (UTC, ISO 8601).
    """

    model: str
    data: dict[str, Any]
    parameters: dict[str, float]
    standard_errors: dict[str, float]
    log_likelihood: float
    converged: bool
    validation: dict[str, Any] | None = None
    fitted_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    segmint_version: str = field(default_factory=_version)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, default=str) + "\n"

    def save(self, path: Path | str) -> Path:
        """Write the card as JSON to ``path``."""
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(self.to_json(), encoding="utf-8")
        return p

    @classmethod
    def load(cls, path: Path | str) -> ModelCard:
        """Read a card written by :meth:`save`."""
        return cls(**json.loads(Path(path).read_text(encoding="utf-8")))
