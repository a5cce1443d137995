"""Predictive models: customer lifetime value (BG/NBD, Pareto/NBD, Gamma-Gamma).

Estimators follow the scikit-learn contract (``fit`` returns ``self``, learned state ends
in ``_``); the per-customer summary they are fitted on is computed in the engine with
Ibis, compressed to one weighted row per distinct ``(x, t_x, T)``.
"""

from __future__ import annotations

from segmint.models._bgnbd import BGNBD
from segmint.models._card import ClassifierCard, ModelCard
from segmint.models._clv import CLVFit, fit_clv
from segmint.models._gammagamma import GammaGamma
from segmint.models._holdout import FrequencyGroup, HoldoutValidation, validate_holdout
from segmint.models._paretonbd import ParetoNBD
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
from segmint.models._transactions import TransactionFile, read_transactions
from segmint.models._value import customer_lifetime_value

__all__ = [
    "BGNBD",
    "CLVFit",
    "Compressed",
    "FrequencyGroup",
    "GammaGamma",
    "HoldoutValidation",
    "ModelCard",
    "ParetoNBD",
    "TransactionFile",
    "Window",
    "collect",
    "compress",
    "customer_lifetime_value",
    "customer_summary",
    "fit_clv",
    "purchases",
    "read_transactions",
    "spend_summary",
    "validate_holdout",
    "window_for",
]

# -- churn and propensity ----------------------------------------------------------------
from segmint.models._backtest import Backtest, CalibrationBin, evaluate
from segmint.models._churn import (
    ChurnFit,
    churn_frame,
    churn_labels,
    churn_population,
    fit_churn,
)
from segmint.models._classifier import TraitClassifier
from segmint.models._drivers import (
    Driver,
    driver_contributions,
    driver_importance,
    reference_values,
    top_reasons,
)
from segmint.models._features import active_customers, trait_frame
from segmint.models._propensity import (
    PropensityBacktest,
    PropensityFit,
    category_labels,
    category_slug,
    fit_propensity,
    propensity_frame,
)

__all__ += [
    "Backtest",
    "CalibrationBin",
    "ChurnFit",
    "ClassifierCard",
    "Driver",
    "PropensityBacktest",
    "PropensityFit",
    "TraitClassifier",
    "active_customers",
    "category_labels",
    "category_slug",
    "churn_frame",
    "churn_labels",
    "churn_population",
    "driver_contributions",
    "driver_importance",
    "evaluate",
    "fit_churn",
    "fit_propensity",
    "propensity_frame",
    "reference_values",
    "top_reasons",
    "trait_frame",
]
