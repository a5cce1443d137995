"""Predictive models: customer lifetime value (BG/NBD, Pareto/NBD, Gamma-Gamma).

Estimators follow the scikit-learn contract (``fit`` returns ``self``, learned state ends
in ``_``); the per-customer summary they are fitted on is computed in the engine.
"""

from __future__ import annotations

from segmint.models._bgnbd import BGNBD
from segmint.models._gammagamma import GammaGamma
from segmint.models._paretonbd import ParetoNBD

__all__ = ["BGNBD", "GammaGamma", "ParetoNBD"]
