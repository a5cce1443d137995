"""Segments: the rule language, built-in families (RFM, lifecycle, value tiers), evaluation.

Rules live in ``segmint.yaml`` under ``segments:`` (see docs/segments.md); families are
configured under ``families:`` (docs/families.md). ``segmint run`` evaluates them all as of
a date and records snapshots and deltas.
"""

from __future__ import annotations

from segmint.segments._compile import RuleContext, compile_segment
from segmint.segments._exclusive import assign_exclusive
from segmint.segments._families_config import (
    ExclusiveGroup,
    FamiliesConfig,
    LifecycleSettings,
    RfmSettings,
    ValueTierSettings,
)
from segmint.segments._graph import evaluation_order, validate_segments
from segmint.segments._lifecycle import STAGE_PRECEDENCE, lifecycle
from segmint.segments._parse import (
    parse_rule,
    parse_segments,
    rule_json_schema,
    segments_json_schema,
)
from segmint.segments._rfm import rfm, rfm_movement, rfm_transition_matrix, rfm_transitions
from segmint.segments._rules import (
    Rule,
    SegmentDefinition,
)
from segmint.segments._tiers import value_tiers

__all__ = [
    "STAGE_PRECEDENCE",
    "ExclusiveGroup",
    "FamiliesConfig",
    "LifecycleSettings",
    "RfmSettings",
    "Rule",
    "RuleContext",
    "SegmentDefinition",
    "ValueTierSettings",
    "assign_exclusive",
    "compile_segment",
    "evaluation_order",
    "lifecycle",
    "parse_rule",
    "parse_segments",
    "rfm",
    "rfm_movement",
    "rfm_transition_matrix",
    "rfm_transitions",
    "rule_json_schema",
    "segments_json_schema",
    "validate_segments",
    "value_tiers",
]
