"""Thin Reflex states: they check permissions, call services and hold what a page shows."""
