"""Memory over many consecutive packs in one process, so that a leak or an unbounded cache shows.

The parent (``measure``) starts ``python -m bench.memory`` as a fresh process, which makes the
same pack (build, then seal) again and again, each into a new folder removed afterwards, and
reports its memory after the first pack, after pack 10 and after the last (each after a garbage
collection), and at its peak. It prints one JSON object.

Two measures are taken, because a pack may render in worker processes: the resident set size of
the process itself (VmRSS; peak from ``resource.getrusage``), and the proportional set size (PSS)
of the process and every process it started, summed, so that pages workers share are counted
once. The target is judged on the second, which is the memory the machine actually gives the work.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHECKPOINT = 10
GENERATED_ON = date(2026, 11, 20)


@dataclass(frozen=True)
class MemoryFigures:
    size: str
    packs: int
    checkpoint: int  # the pack after which the reference was taken (10, or fewer for a shorter run)
    processes: int  # the process and the processes it started, after the last pack
    rss_after_first: int  # bytes, this process alone
    rss_after_checkpoint: int
    rss_after_last: int
    peak_rss: int  # resource.getrusage(RUSAGE_SELF).ru_maxrss
    total_after_first: int  # bytes, PSS summed over the process and the processes it started
    total_after_checkpoint: int
    total_after_last: int
    peak_total: int  # the largest sum seen between packs (the peak within a pack is not sampled)
    seconds: float
    store_limit: int = 0  # bytes: the copy store every pack kept its copies in
    store_bytes: int = 0  # what it held after the last pack
    store_peak: int = 0  # the most it held after any pack

    @property
    def growth(self) -> float:
        """Total memory after the last pack relative to after the checkpoint: 0.05 is 5 per cent more."""
        return self.total_after_last / self.total_after_checkpoint - 1

    @property
    def rss_growth(self) -> float:
        return self.rss_after_last / self.rss_after_checkpoint - 1

    def as_json(self) -> dict[str, Any]:
        return {**vars(self), "growth": self.growth, "rss_growth": self.rss_growth}


def measure(*, packs: int, size: str = "M", seed: int = 0) -> MemoryFigures:
    """Run the packs in a fresh process and return what it reported."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-m", "bench.memory", "--packs", str(packs), "--size", size,
                           "--seed", str(seed)], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"the memory run failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return MemoryFigures(**json.loads(done.stdout.strip().splitlines()[-1]))


def _field_kb(path: str, name: str) -> int:
    """A ``Name:  123 kB`` field of a /proc file, in bytes; 0 if the process has gone."""
    try:
        with open(path, encoding="ascii") as lines:
            for line in lines:
                if line.startswith(name):
                    return int(line.split()[1]) * 1024
    except OSError:
        return 0
    raise RuntimeError(f"{name} not found in {path}")


def _process_tree() -> list[int]:
    """This process and every process it started, directly or not."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stat:
                    parents[int(entry)] = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    tree = [os.getpid()]
    for pid in tree:
        tree.extend(child for child, parent in parents.items() if parent == pid)
    return tree


def _memory() -> tuple[int, int, int]:
    """This process's RSS, the PSS summed over its process tree (bytes), and the tree's size."""
    tree = _process_tree()
    total = sum(_field_kb(f"/proc/{pid}/smaps_rollup", "Pss:") for pid in tree)
    return _field_kb("/proc/self/status", "VmRSS:"), total, len(tree)


STORE_LIMIT = 40 * 1024 * 1024  # about three M packs' copies


def run(packs: int, size: str, seed: int) -> MemoryFigures:
    from bench.packs import make_keys, make_pack
    from bench.synthetic import conference
    from docgen.adapters.copy_store import CopyStore
    from docgen.configuration.authority import load_settings

    settings = load_settings()
    case = conference(size, seed)
    checkpoint = min(CHECKPOINT, packs)
    readings: dict[int, tuple[int, int, int]] = {}
    peak_total = 0
    with tempfile.TemporaryDirectory(prefix="docgen-bench-memory-") as folder:
        keys = make_keys([case], Path(folder) / "keys", settings)
        # Every pack is dated another year (from 2101: a year no synthetic date or withheld text
        # holds, so a date printed on a copy is never taken for withheld text), so every copy is
        # laid out (nothing is taken from the store) and kept: the store fills, and must stay
        # within its limit.
        store = CopyStore(Path(folder) / "store", max_bytes=STORE_LIMIT)
        store_peak = 0
        started = time.perf_counter()
        for number in range(1, packs + 1):
            out_dir = Path(folder) / f"pack-{number}"
            make_pack(case, settings, keys, out_dir, generated_on=GENERATED_ON.replace(year=2100 + number), store=store)
            shutil.rmtree(out_dir)
            store_peak = max(store_peak, store.size()[1])
            peak_total = max(peak_total, _memory()[1])
            if number in (1, checkpoint, packs):
                gc.collect()
                readings[number] = _memory()
        seconds = time.perf_counter() - started
        store_bytes = store.size()[1]
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kilobytes on Linux
    first, middle, last = readings[1], readings[checkpoint], readings[packs]
    return MemoryFigures(size, packs, checkpoint, last[2], first[0], middle[0], last[0], peak_rss,
                         first[1], middle[1], last[1], max(peak_total, first[1], middle[1], last[1]), seconds,
                         STORE_LIMIT, store_bytes, store_peak)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--packs", type=int, default=100)
    parser.add_argument("--size", default="M", choices=("S", "M", "L"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.packs < 1:
        parser.error("--packs must be at least 1")
    print(json.dumps(vars(run(args.packs, args.size, args.seed))))


if __name__ == "__main__":
    main()
