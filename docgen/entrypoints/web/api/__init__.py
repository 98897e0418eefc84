"""The JSON API for case management systems (routes.py), described by openapi.json beside it."""
