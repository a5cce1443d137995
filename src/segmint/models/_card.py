"""Model cards: what was fitted, on which data, with what result; saved as JSON.

:class:`ModelCard` records a maximum-likelihood fit (CLV models), :class:`ClassifierCard`
a score model checked by a backtest (churn, propensity, lead score); both are stored with
the run that fitted them and share how they are written.
"""

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


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class _Card:
    """How a card is written: plain JSON-able data, saved as one JSON file."""

    def to_dict(self) -> dict[str, Any]:
        """The card as plain JSON-able data."""
        data: dict[str, Any] = json.loads(json.dumps(asdict(self), default=str))  # type: ignore[call-overload]
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    def save(self, path: Path | str) -> Path:
        """Write the card as JSON to ``path``."""
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(self.to_json(), encoding="utf-8")
        return p


@dataclass
class ModelCard(_Card):
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
    fitted_at: str = field(default_factory=_now)
    segmint_version: str = field(default_factory=_version)

    @classmethod
    def load(cls, path: Path | str) -> ModelCard:
        """Read a card written by :meth:`save`."""
        return cls(**json.loads(Path(path).read_text(encoding="utf-8")))


@dataclass
class ClassifierCard(_Card):
    """What a score model was fitted on and how well it did; JSON-able.

    Attributes
    ----------
    model
        What the model predicts, e.g. "churn: no purchase in 90 days".
    data
        The data window: training and test cut-offs, the outcome window, the population
        and how many customers (and events) each side had.
    features
        The trait names the model reads.
    parameters
        The estimator's parameters.
    metrics
        The backtest on later data (AUC, PR-AUC, lift, calibration table, ...).
    drivers
        Global importance of each driver on the backtest (drop in AUC when shuffled).
    fitted_at
        When (UTC, ISO 8601).
    """

    model: str
    data: dict[str, Any]
    features: list[str]
    parameters: dict[str, Any]
    metrics: dict[str, Any]
    drivers: list[dict[str, Any]] = field(default_factory=list)
    fitted_at: str = field(default_factory=_now)
    segmint_version: str = field(default_factory=_version)
