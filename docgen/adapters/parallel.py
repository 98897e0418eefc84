"""A pool of worker processes that renders on every core, started once and reused.

WeasyPrint and docxtpl hold the GIL, so copies render side by side only in separate processes.
The pool is made on first use and kept for the life of the process, so each worker imports the
renderers, loads its fonts, parses the stylesheet and compiles the templates once, however many
packs the process builds; it is shut down when the process exits.

Workers are started with the ``forkserver`` method: each is forked from a small server process
that has imported the renderers but has never run a thread, so a worker starts quickly and is
safe whatever the calling process runs (a scheduler, a web server's threads, or Pango's own
font-loading thread, which a plain ``fork`` of a process that has rendered could copy while it
holds a lock).
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import pickle
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.context import BaseContext
from typing import Any, TypeVar

__all__ = ["BrokenProcessPool", "TaskFailed", "available_cores", "can_start_workers", "pool", "run_all", "shutdown"]

Task = TypeVar("Task")
Result = TypeVar("Result")

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
_pool_workers = 0
_exit_registered = False


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity, which a container or ``taskset``
    may limit), else the machine's count."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def can_start_workers() -> bool:
    """Whether this process may have worker processes: a daemonic process may not."""
    return not multiprocessing.current_process().daemon


def pool(workers: int, *, preload: Sequence[str] = ()) -> ProcessPoolExecutor:
    """The process's pool of ``workers`` workers, made on first use.

    Asking for a different number of workers replaces the pool; work already given to the old
    one still finishes. ``preload`` names modules the fork server imports once, so that every
    worker starts with them imported; it counts only when the fork server starts.
    """
    global _pool, _pool_workers, _exit_registered
    if workers < 1:
        raise ValueError(f"workers must be 1 or more, not {workers}")
    with _lock:
        if _pool is not None and (_pool_workers != workers or _is_broken(_pool)):
            _pool.shutdown(wait=False)
            _pool = None
        if _pool is None:
            context: BaseContext
            if "forkserver" in multiprocessing.get_all_start_methods():
                context = multiprocessing.get_context("forkserver")
                if preload:
                    multiprocessing.get_context("forkserver").set_forkserver_preload(list(preload))
            else:  # Windows: no fork server; each worker starts a fresh interpreter
                context = multiprocessing.get_context("spawn")
            _pool, _pool_workers = ProcessPoolExecutor(max_workers=workers, mp_context=context), workers
            if not _exit_registered:
                atexit.register(shutdown)
                _exit_registered = True
        return _pool


def shutdown() -> None:
    """Stop the pool's workers, if there is a pool; the next :func:`pool` starts a new one."""
    global _pool
    with _lock:
        if _pool is not None:
            _pool.shutdown(wait=True, cancel_futures=True)
            _pool = None


def _is_broken(executor: ProcessPoolExecutor) -> bool:
    return bool(getattr(executor, "_broken", False))


class TaskFailed(Exception):
    """A task raised in a worker; ``index`` is its position in the tasks given, ``error`` what it raised."""

    def __init__(self, index: int, error: BaseException) -> None:
        super().__init__(index, error)
        self.index = index
        self.error = error


def run_all(function: Callable[[Task], Result], tasks: Sequence[Task], *, workers: int,
            order: Iterable[int] | None = None, preload: Sequence[str] = (),
            on_result: Callable[[int, Result], None] | None = None) -> list[Result]:
    """``function(task)`` for every task, in the pool's workers; the results in the tasks' order.

    ``order`` is the order to hand tasks out in (longest first keeps every core busy to the
    end); ``on_result(index, result)`` is called in this process as each result arrives, so the
    caller can write it while the workers go on. On the first failure nothing more is started,
    the tasks already running are waited for, and :class:`TaskFailed` is raised for the failed
    task that comes first in the tasks' order, with what it raised; a failure in ``on_result``
    is raised as it is, after the same waiting. ``function`` must be importable by name, and
    tasks and results picklable.
    """
    executor = pool(workers, preload=preload)
    indexes = list(range(len(tasks)) if order is None else order)
    futures: dict[Future[Result], int] = {}
    try:
        for index in indexes:
            futures[executor.submit(_call, function, tasks[index])] = index
    except BrokenProcessPool as exc:
        _cancel_and_wait(futures)
        raise TaskFailed(indexes[len(futures)], exc) from None
    results: dict[int, Result] = {}
    pending = set(futures)
    try:
        while pending:
            done, pending = wait(pending, return_when=FIRST_EXCEPTION)
            failed = sorted((futures[f], f) for f in done if f.exception() is not None)
            if failed:
                _cancel_and_wait(futures)
                index, future = failed[0]
                error = future.exception()
                assert error is not None
                raise TaskFailed(index, error)
            for future in sorted(done, key=futures.__getitem__):
                index = futures[future]
                results[index] = future.result()
                if on_result is not None:
                    on_result(index, results[index])
    except BaseException:
        _cancel_and_wait(futures)
        raise
    return [results[index] for index in range(len(tasks))]


def _call(function: Callable[[Task], Result], task: Task) -> Result:
    """Run one task in a worker, making sure what it raises can be sent back: an exception whose
    class takes more than a message cannot be rebuilt from its pickle, and would break the pool."""
    try:
        return function(task)
    except Exception as exc:
        try:
            pickle.loads(pickle.dumps(exc))
        except Exception:  # noqa: BLE001 - an exception that cannot cross to the parent is re-raised as text
            raise RuntimeError(f"{type(exc).__qualname__}: {exc}") from None
        raise


def _cancel_and_wait(futures: Iterable[Future[Any]]) -> None:
    """Cancel the tasks not started and wait for the ones running: a task left running would
    go on using a core, and a caller cleaning up after a failure must not race a worker."""
    futures = list(futures)
    for future in futures:
        future.cancel()
    wait(futures)
