"""Predictive models: customer lifetime value (BG/NBD, Pareto/NBD, Gamma-Gamma), churn,
propensity, lead score and wallet.

Estimators follow the scikit-learn contract (``fit`` returns ``self``, learned state ends
in ``_``); the per-customer summary they are fitted on is computed in the engine with
Ibis, compressed to one weighted row per distinct ``(x, t_x, T)``.

The names below are imported on first use (PEP 562): a run or a preview of a project
with no model enabled imports this package for the names of the model scores, and
scikit-learn and SciPy alone took about a second to import.
"""

# ruff: noqa: F401  (the TYPE_CHECKING imports re-export the lazy names below)

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: exported name -> the module that defines it
_EXPORTS: dict[str, str] = {
    "BGNBD": "segmint.models._bgnbd",
    "ClassifierCard": "segmint.models._card",
    "ModelCard": "segmint.models._card",
    "CLVFit": "segmint.models._clv",
    "fit_clv": "segmint.models._clv",
    "GammaGamma": "segmint.models._gammagamma",
    "FrequencyGroup": "segmint.models._holdout",
    "HoldoutValidation": "segmint.models._holdout",
    "validate_holdout": "segmint.models._holdout",
    "ParetoNBD": "segmint.models._paretonbd",
    "Compressed": "segmint.models._summary",
    "Window": "segmint.models._summary",
    "collect": "segmint.models._summary",
    "compress": "segmint.models._summary",
    "customer_summary": "segmint.models._summary",
    "purchases": "segmint.models._summary",
    "spend_summary": "segmint.models._summary",
    "window_for": "segmint.models._summary",
    "TransactionFile": "segmint.models._transactions",
    "read_transactions": "segmint.models._transactions",
    "customer_lifetime_value": "segmint.models._value",
    "Backtest": "segmint.models._backtest",
    "CalibrationBin": "segmint.models._backtest",
    "evaluate": "segmint.models._backtest",
    "ChurnFit": "segmint.models._churn",
    "churn_frame": "segmint.models._churn",
    "churn_labels": "segmint.models._churn",
    "churn_population": "segmint.models._churn",
    "fit_churn": "segmint.models._churn",
    "TraitClassifier": "segmint.models._classifier",
    "Driver": "segmint.models._drivers",
    "driver_contributions": "segmint.models._drivers",
    "driver_importance": "segmint.models._drivers",
    "reference_values": "segmint.models._drivers",
    "top_reasons": "segmint.models._drivers",
    "active_customers": "segmint.models._features",
    "trait_frame": "segmint.models._features",
    "PropensityBacktest": "segmint.models._propensity",
    "PropensityFit": "segmint.models._propensity",
    "category_labels": "segmint.models._propensity",
    "category_slug": "segmint.models._propensity",
    "fit_propensity": "segmint.models._propensity",
    "propensity_frame": "segmint.models._propensity",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:  # what the names are, for type checkers and editors
    from segmint.models._backtest import (
        Backtest,
        CalibrationBin,
        evaluate,
    )
    from segmint.models._bgnbd import (
        BGNBD,
    )
    from segmint.models._card import (
        ClassifierCard,
        ModelCard,
    )
    from segmint.models._churn import (
        ChurnFit,
        churn_frame,
        churn_labels,
        churn_population,
        fit_churn,
    )
    from segmint.models._classifier import (
        TraitClassifier,
    )
    from segmint.models._clv import (
        CLVFit,
        fit_clv,
    )
    from segmint.models._drivers import (
        Driver,
        driver_contributions,
        driver_importance,
        reference_values,
        top_reasons,
    )
    from segmint.models._features import (
        active_customers,
        trait_frame,
    )
    from segmint.models._gammagamma import (
        GammaGamma,
    )
    from segmint.models._holdout import (
        FrequencyGroup,
        HoldoutValidation,
        validate_holdout,
    )
    from segmint.models._paretonbd import (
        ParetoNBD,
    )
    from segmint.models._propensity import (
        PropensityBacktest,
        PropensityFit,
        category_labels,
        category_slug,
        fit_propensity,
        propensity_frame,
    )
    from segmint.models._summary import (
        Compressed,
        Window,
        collect,
        compress,
        customer_summary,
        purchases,
        spend_summary,
        window_for,
    )
    from segmint.models._transactions import (
        TransactionFile,
        read_transactions,
    )
    from segmint.models._value import (
        customer_lifetime_value,
    )
