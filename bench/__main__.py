"""``python -m bench``: the benchmark command (see bench/run.py and docs/performance.md)."""

from bench.run import main

if __name__ == "__main__":  # the pack's worker processes may import this module again
    main()
