"""Adapters at the edges: the database, the renderers."""
