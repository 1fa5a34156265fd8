"""DMN 1.1, 1.2 and 1.3 files are read, whatever prefix they give the DMN namespace (SpiffWorkflow's own
test files: its v1_2_supported tables failed with an internal XML Schema error, a prefixed file gave
IndexError). Files from tests/data/spiffworkflow_dmn (LGPL, see COPYING there)."""
from __future__ import annotations

import re

import pytest

from app.config import PROJECT_ROOT
from app.engine import loader
from app.errors import ProcessInvalid

DATA = PROJECT_ROOT / "tests" / "data"
DMN = DATA / "spiffworkflow_dmn"
BPMN = {"two_step.bpmn": (DATA / "two_step.bpmn").read_bytes()}
FORMS = {"ask.schema.json"}


def _problems(name: str) -> list[str]:
    try:
        loader.parse_bundle({**BPMN, name: (DMN / name).read_bytes()}, FORMS)
    except ProcessInvalid as exc:
        return [str(p.message) for p in exc.problems]
    return []


@pytest.mark.parametrize("name", [f"v1_{minor}_diagram-interchange-{kind}.dmn" for minor in (2, 3)
                                  for kind in ("decision-with-listed-input-data", "shape-with-label-text")])
def test_the_supported_dmn_12_and_13_files_are_read(name: str) -> None:
    assert _problems(name) == []


@pytest.mark.parametrize("name", ["dmn_version_20151101_test.dmn", "dmn_version_20191111_test.dmn"])
def test_dmn_11_and_13_tables_are_read_and_only_their_empty_input_is_refused(name: str) -> None:
    # Their input expression is empty, which the engine cannot evaluate; nothing else is wrong.
    assert [p for p in _problems(name) if "input expression" not in p] == []
    assert len(_problems(name)) == 1


@pytest.mark.parametrize("name, decisions", [
    ("v1_2_unsupported_chapter-11-example.dmn", 11), ("v1_3_unsupported_loan-info.dmn", 2)])
def test_a_prefixed_dmn_with_several_decisions_is_refused_with_a_message_not_an_index_error(
        name: str, decisions: int) -> None:
    assert b"<semantic:definitions" in (DMN / name).read_bytes()
    [problem] = _problems(name)
    assert f"holds {decisions} decisions" in problem and "IndexError" not in problem


def test_a_prefixed_dmn_13_table_is_read() -> None:
    plain = (DMN / "dmn_version_20191111_test.dmn").read_text(encoding="utf-8")
    prefixed = re.sub(r"<(/?)(?![\w.-]+:)(\w)", r"<\1d:\2", plain).replace(
        'xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/"', 'xmlns:d="https://www.omg.org/spec/DMN/20191111/MODEL/"'
    ).replace("<d:text></d:text>", "<d:text>allergies</d:text>")
    assert "<d:decision " in prefixed
    try:
        loader.parse_bundle({**BPMN, "prefixed.dmn": prefixed.encode("utf-8")}, FORMS)
    except ProcessInvalid as exc:
        pytest.fail(str([p.message for p in exc.problems]))
