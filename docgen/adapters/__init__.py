"""Adapters at the edges: the database and its stores, case files, the renderers, reading output bytes back."""
