"""What a template read from its context, and the fingerprint of those reads on another context:
it changes when, and only when, something read changes."""

from __future__ import annotations

import copy
from typing import Any

import jinja2
import pytest
from jinja2.sandbox import ImmutableSandboxedEnvironment

from docgen.adapters.tracking import Reads, fingerprint, tracked

TEMPLATE = """{{ case.title }}
{% for section in case.sections %}{% if section.get('hidden') %}-{% else %}{{ section.title }}:{% for item in section['items'] %} {{ item.text }}{% endfor %}{% endif %}
{% endfor %}{{ (case.people + case.extra)|length }} {{ 'note' in case }}"""

CONTEXT: dict[str, Any] = {"case": {
    "title": "Record",
    "sections": [{"title": "One", "items": [{"text": "a"}, {"text": "b"}]},
                 {"title": "Two", "hidden": True, "items": [{"text": "secret"}]}],
    "people": [{"name": "x"}], "extra": [], "unread": "anything"}}


def _render(context: dict[str, Any]) -> tuple[str, list[Any]]:
    environment = ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined)
    reads = Reads()
    text = environment.from_string(TEMPLATE).render(tracked(context, reads))
    return text, reads.tree()


def _changed(change) -> dict[str, Any]:
    context = copy.deepcopy(CONTEXT)
    change(context["case"])
    return context


def test_the_tracked_render_prints_what_the_plain_render_prints() -> None:
    environment = ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined)
    assert _render(CONTEXT)[0] == environment.from_string(TEMPLATE).render(CONTEXT)


@pytest.mark.parametrize(("change", "same"), [
    pytest.param(lambda case: case.update(unread="other"), True, id="a-value-never-read"),
    pytest.param(lambda case: case["sections"][1]["items"][0].update(text="other"), True, id="text-of-a-hidden-section"),
    pytest.param(lambda case: case["people"][0].update(name="y"), True, id="a-name-only-counted"),
    pytest.param(lambda case: case["sections"][0]["items"][1].update(text="c"), False, id="a-paragraph-printed"),
    pytest.param(lambda case: case["sections"][0]["items"].append({"text": "d"}), False, id="a-paragraph-added"),
    pytest.param(lambda case: case["sections"][1].pop("hidden"), False, id="a-section-no-longer-hidden"),
    pytest.param(lambda case: case["sections"][0].update(hidden=True), False, id="a-section-hidden"),
    pytest.param(lambda case: case["extra"].append({}), False, id="a-list-added-to"),
    pytest.param(lambda case: case.update(note="n"), False, id="a-key-tested-with-in"),
    pytest.param(lambda case: case.update(title="Minutes"), False, id="the-title"),
])
def test_the_fingerprint_changes_exactly_when_something_read_changes(change, same: bool) -> None:
    text, tree = _render(CONTEXT)
    changed = _changed(change)
    assert (fingerprint(tree, changed) == fingerprint(tree, CONTEXT)) is same
    # Sound: an equal fingerprint means the same output.
    if same:
        assert _render(changed)[0] == text
    else:
        assert _render(changed)[0] != text


def test_a_fingerprint_names_the_paths_it_read() -> None:
    """Two renders that read different paths holding the same values do not share a fingerprint."""
    environment = ImmutableSandboxedEnvironment()
    first, second = Reads(), Reads()
    environment.from_string("{{ a }}").render(tracked({"a": {"x": 1}}, first))
    environment.from_string("{{ a.x }}{{ a.y }}").render(tracked({"a": {"x": 1, "y": 1}}, second))
    context = {"a": {"x": 1, "y": 1}}
    assert fingerprint(first.tree(), context) != fingerprint(second.tree(), context)


def test_a_name_tested_or_printed_at_the_top_of_the_context_is_read() -> None:
    """Jinja reads the context's own names directly: a top-level value that is not a mapping or a
    list, and whether a name is there at all, are part of the fingerprint."""
    environment = ImmutableSandboxedEnvironment()
    template = "{% if placeholder %}{{ placeholder }}{% endif %}{% if report is defined %}R{% endif %}"
    reads = Reads()
    text = environment.from_string(template).render(tracked({"placeholder": "Withheld", "other": 1}, reads))
    assert text == "Withheld"
    base = {"placeholder": "Withheld", "other": 1}
    assert fingerprint(reads.tree(), dict(base)) == fingerprint(reads.tree(), base)
    assert fingerprint(reads.tree(), {**base, "placeholder": "Not shown"}) != fingerprint(reads.tree(), base)
    assert fingerprint(reads.tree(), {**base, "report": {}}) != fingerprint(reads.tree(), base)


def test_a_container_printed_whole_prints_as_itself_and_is_read_whole() -> None:
    environment = ImmutableSandboxedEnvironment()
    context = {"case": {"tags": ["a", "b"], "meta": {"k": "v"}}}
    reads = Reads()
    text = environment.from_string("{{ case.tags }} {{ case.meta }}").render(tracked(context, reads))
    assert text == environment.from_string("{{ case.tags }} {{ case.meta }}").render(context)
    changed = {"case": {"tags": ["a", "c"], "meta": {"k": "v"}}}
    assert fingerprint(reads.tree(), changed) != fingerprint(reads.tree(), context)
    changed = {"case": {"tags": ["a", "b"], "meta": {"k": "w"}}}
    assert fingerprint(reads.tree(), changed) != fingerprint(reads.tree(), context)
