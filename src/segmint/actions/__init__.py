"""Activation: owners for B2B accounts, next best actions, campaign measurement.

See docs/actions.md.  ``segmint.config`` reads :class:`ActionsConfig` from here, so this
package imports nothing from ``segmint.config`` at import time.
"""

from __future__ import annotations

from segmint.actions._config import (
    ActionRule,
    ActionsConfig,
    FrequencyCap,
    NextBestActionSettings,
    OwnersSettings,
    Salesperson,
    Territory,
)
from segmint.actions._owners import (
    ACCOUNT_OWNERS,
    OwnerReport,
    assign_account_owners,
    assign_owners,
    size_band,
)

__all__ = [
    "ACCOUNT_OWNERS",
    "ActionRule",
    "ActionsConfig",
    "FrequencyCap",
    "NextBestActionSettings",
    "OwnerReport",
    "OwnersSettings",
    "Salesperson",
    "Territory",
    "assign_account_owners",
    "assign_owners",
    "size_band",
]
