"""Copies rendered side by side in worker processes: the same pack, byte for byte, as rendered one
after another; a copy refused in a worker stops the whole pack, names the copy, and leaves nothing
behind; and the pool of workers is kept from one pack to the next."""

from __future__ import annotations

import copy
import gc
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from docgen.adapters import parallel
from docgen.adapters.casefile import validate_case
from docgen.errors import RedactionError
from docgen.services.pack import build_pack

GENERATED_ON = date(2026, 11, 20)


def _manifest(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


def test_workers_make_the_same_pack_as_one_process(example_case, settings, tmp_path: Path) -> None:
    serial = build_pack(example_case, settings, tmp_path / "serial", generated_on=GENERATED_ON, workers=1)
    side_by_side = build_pack(example_case, settings, tmp_path / "parallel", generated_on=GENERATED_ON, workers=2)
    assert side_by_side == serial  # same files, same hashes and pages, in the same order
    assert _manifest(tmp_path / "parallel") == _manifest(tmp_path / "serial")
    for artifact in serial:
        assert (tmp_path / "parallel" / artifact.path).read_bytes() == (tmp_path / "serial" / artifact.path).read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["parallel", "serial"]  # no staging folder left


def _unverifiable(example_data: dict[str, Any]) -> dict[str, Any]:
    """A record whose confidential item is also, word for word, in an open item: the family copies'
    leak check cannot tell a leak from allowed wording there, so it must refuse them."""
    data = copy.deepcopy(example_data)
    items = data["record"]["sections"][0]["items"]
    items.append({"text": "Qzx Kestrel Lane bus shelter", "confidentiality": "confidential", "reason": "third_party"})
    items.append({"text": "Lena waits at the Qzx Kestrel Lane bus shelter every morning."})
    return data


@pytest.mark.parametrize("workers", [1, 2])
def test_a_copy_refused_stops_the_pack_names_the_copy_and_leaves_nothing(
        example_data, settings, tmp_path: Path, workers: int) -> None:
    case = validate_case(_unverifiable(example_data), source="unverifiable")
    out = tmp_path / "packs" / "pack"
    with pytest.raises(RedactionError) as refused:
        build_pack(case, settings, out, generated_on=GENERATED_ON, workers=workers)
    message = str(refused.value)
    assert refused.match(r"^[a-z_]+--(family|child)-[a-z]+\.(pdf|docx) was refused")
    assert "no part of the pack was written" in message
    assert "Kestrel" not in message  # the withheld text is never repeated in a message
    assert not out.exists()
    assert list((tmp_path / "packs").iterdir()) == []  # nor any half-built staging folder


def test_the_pool_is_kept_between_packs(example_case, settings, tmp_path: Path) -> None:
    case = copy.deepcopy(example_case)
    build_pack(case, settings, tmp_path / "first", generated_on=GENERATED_ON, formats=("docx",), workers=2)
    kept = parallel.pool(2)
    build_pack(case, settings, tmp_path / "second", generated_on=GENERATED_ON, formats=("docx",), workers=2)
    assert parallel.pool(2) is kept


def test_worker_count_must_be_positive(example_case, settings, tmp_path: Path) -> None:
    from docgen.errors import DocgenError

    with pytest.raises(DocgenError, match="workers must be 1 or more"):
        build_pack(example_case, settings, tmp_path / "pack", generated_on=GENERATED_ON, workers=0)
    assert not (tmp_path / "pack").exists()


# -- the pool on its own ------------------------------------------------------------------------

class _NeedsTwoArguments(Exception):
    """An exception that cannot be rebuilt from its pickle (its class takes two arguments)."""

    def __init__(self, what: str, where: int) -> None:
        super().__init__(f"{what} at {where}")


def _square_or_fail(n: int) -> int:
    if n == 3:
        raise ValueError("three is refused")
    if n == 4:
        raise _NeedsTwoArguments("four", 4)
    return n * n


def test_results_come_back_in_the_tasks_order_whatever_order_they_are_handed_out_in() -> None:
    arrived: list[int] = []
    results = parallel.run_all(_square_or_fail, [0, 1, 2, 5, 6], workers=2, order=[4, 3, 2, 1, 0],
                               on_result=lambda index, _: arrived.append(index))
    assert results == [0, 1, 4, 25, 36]
    assert sorted(arrived) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(("tasks", "index", "error", "text"), [
    pytest.param([1, 3, 2], 1, ValueError, "three is refused", id="an ordinary exception"),
    pytest.param([1, 2, 4], 2, RuntimeError, "_NeedsTwoArguments: four at 4", id="an exception that cannot be pickled"),
])
def test_a_failed_task_is_reported_with_its_position(tasks: list[int], index: int, error: type, text: str) -> None:
    with pytest.raises(parallel.TaskFailed) as failed:
        parallel.run_all(_square_or_fail, tasks, workers=2)
    assert failed.value.index == index
    assert isinstance(failed.value.error, error) and text in str(failed.value.error)


def test_collections_are_fewer_while_rendering_and_the_settings_come_back() -> None:
    from docgen.adapters.pdf import fewer_collections

    before = gc.get_threshold()
    with pytest.raises(RuntimeError), fewer_collections():
        with fewer_collections():
            assert gc.get_threshold()[0] >= 10_000
        assert gc.get_threshold()[0] >= 10_000  # still inside the outer block
        raise RuntimeError("a render failed")
    assert gc.get_threshold() == before
