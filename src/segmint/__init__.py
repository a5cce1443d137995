"""segmint: customer segments and scores that marketing and sales act on, kept fresh."""

from __future__ import annotations

__version__ = "0.1.0"
