"""Segments: the rule language, built-in families (RFM, lifecycle, value tiers), evaluation."""
