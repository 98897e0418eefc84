"""The performance benchmark: synthetic conferences, and the command that times what users wait for.

Run it with ``./dev bench`` (see docs/performance.md); ``bench.synthetic`` is also used by tests.
"""
