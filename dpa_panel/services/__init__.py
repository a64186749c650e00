"""Plain-Python domain rules. Nothing in this package imports Reflex."""
