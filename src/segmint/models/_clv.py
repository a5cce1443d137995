"""The CLV use case: a transactions table in, fitted models, validation and cards out.

``fit_clv`` computes the summary in the engine, fits the purchase model (BG/NBD or
Pareto/NBD) on the compressed calibration summary, validates it on the holdout period,
fits Gamma-Gamma on the repeat buyers' spend, and returns both with their model cards.
The command ``segmint clv fit`` is a thin adapter over it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from segmint.models._bgnbd import BGNBD
from segmint.models._card import ModelCard
from segmint.models._gammagamma import GammaGamma
from segmint.models._holdout import HoldoutValidation, validate_holdout
from segmint.models._paretonbd import ParetoNBD
from segmint.models._summary import (
    Compressed,
    Unit,
    Window,
    collect,
    compress,
    customer_summary,
    purchases,
    spend_summary,
    window_for,
)

if TYPE_CHECKING:
    import ibis.expr.types as ir

PurchaseModelName = Literal["bgnbd", "paretonbd"]


@dataclass
class CLVFit:
    """Fitted purchase and spend models, the holdout validation and the model cards."""

    window: Window
    purchase_model: BGNBD | ParetoNBD
    spend_model: GammaGamma | None
    validation: HoldoutValidation
    cards: list[ModelCard]
    data: Compressed

    def to_dict(self) -> dict[str, Any]:
        return {
            "window": self.window.to_dict(),
            "models": [c.to_dict() for c in self.cards],
        }


def fit_clv(
    table: ir.Table,
    *,
    customer: str,
    date: str,
    amount: str | None = None,
    order: str | None = None,
    calibration_end: date | str | None = None,
    observation_end: date | str | None = None,
    unit: Unit = "day",
    model: PurchaseModelName = "bgnbd",
    source: str = "",
) -> CLVFit:
    """Fit CLV models on a transactions table (an Ibis table on any engine).

    Parameters
    ----------
    table
        One row per order line or order.
    customer, date, amount, order
        Column names; ``order`` (optional) makes each order a purchase, otherwise each
        customer-day is one.
    calibration_end
        Last day of the calibration period (default: leaves the last quarter of the data
        window as holdout).
    observation_end
        Last day of the holdout period (default: the last purchase day).
    unit
        "day" or "week" (days/7).
    model
        "bgnbd" or "paretonbd".
    source
        Where the data came from, for the model cards.
    """
    if model not in ("bgnbd", "paretonbd"):
        raise ValueError(f"model must be 'bgnbd' or 'paretonbd', not {model!r}")
    bought = purchases(table, customer=customer, date=date, amount=amount, order=order)
    window = window_for(bought, calibration_end, observation_end, unit)
    summary = customer_summary(bought, window)
    data = collect(compress(summary), window)
    purchase_model: BGNBD | ParetoNBD = BGNBD() if model == "bgnbd" else ParetoNBD()
    purchase_model.fit(data.X, sample_weight=data.weight)
    validation = validate_holdout(purchase_model, data)
    described = {
        **window.to_dict(),
        "source": source,
        "customers": data.n_customers,
        "rows_fitted": len(data.x),
        "purchase": "order" if order else "customer-day",
    }
    cards = [
        ModelCard(
            model=purchase_model.model_name,
            data=described,
            parameters=purchase_model.params_,
            standard_errors=purchase_model.standard_errors_,
            log_likelihood=purchase_model.log_likelihood_,
            converged=purchase_model.converged_,
            validation=validation.to_dict(),
        )
    ]
    spend_model = None
    if amount is not None:
        x, m, w = spend_summary(summary)
        if len(x) >= 3:
            spend_model = GammaGamma().fit(np.column_stack([x, m]), sample_weight=w)
            cards.append(
                ModelCard(
                    model=spend_model.model_name,
                    data={**described, "customers": int(w.sum()), "rows_fitted": len(x)},
                    parameters=spend_model.params_,
                    standard_errors=spend_model.standard_errors_,
                    log_likelihood=spend_model.log_likelihood_,
                    converged=spend_model.converged_,
                )
            )
    return CLVFit(window, purchase_model, spend_model, validation, cards, data)
