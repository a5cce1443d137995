"""``segmint report``: one self-contained HTML file with the project's segments, scores,
profiles, sizing and movement, in English, Danish, Swedish or Norwegian (docs/profiles.md).
"""

from segmint.report._build import ReportResult, write_report
from segmint.report._i18n import LANGUAGES, words

__all__ = ["LANGUAGES", "ReportResult", "words", "write_report"]
