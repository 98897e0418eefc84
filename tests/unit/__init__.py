"""Unit tests: pure and fast, with no database, no rendering and no subprocess; run on every edit."""
