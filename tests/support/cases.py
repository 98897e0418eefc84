"""Case files the tests make from the example conference, each a failure mode of the procedures."""

from __future__ import annotations

import copy
from typing import Any


def shared_care(example_data: dict[str, Any]) -> dict[str, Any]:
    """Both parents live with the children, at different addresses; no address is marked by hand."""
    data = copy.deepcopy(example_data)
    for person in [*data["children"], *data["family"]]:
        for key in ("withheld_from", "reason"):
            person.get("address", {}).pop(key, None)
    father = next(m for m in data["family"] if m["id"] == "karim")
    father["lives_with_child"] = True
    data["invitations"][1] = {"invitee": "karim", "attendance": "attended"}
    return data
