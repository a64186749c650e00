"""Reusable UI pieces (functions returning components)."""
