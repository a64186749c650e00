"""Pages: each module composes components into one route."""
