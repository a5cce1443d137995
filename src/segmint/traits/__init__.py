"""Traits: per-customer values computed in the engine (recency, spend, engagement, ...)."""
