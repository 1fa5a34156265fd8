"""Designer-written Python cannot reach the interpreter or hang a worker: known sandbox escapes are refused
at deploy (naming the element) and again at run time (specs deployed before the check), and resource
bombs are stopped by the work budget before they run long (asserted by the refusal they raise, not by
timing them)."""
from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest

from app.config import PROJECT_ROOT
from app.engine import lint, loader, runner
from app.engine.sandbox import BudgetExceeded, SandboxError, UnsafeExpression, prepare, refusal
from app.engine.scripts import SCRIPT_ENGINE
from app.engine.xml import parse_xml
from app.errors import EngineFailure, ProblemLocation
from tests.conftest import BUNDLE, Api

DATA = Path(__file__).resolve().parent.parent / "data"
BPMN = (DATA / "two_step.bpmn").read_bytes()
FORMS = {"ask.schema.json"}
SCRIPT = "amount = amount * 2"  # the script of two_step's script task `double`
ENV = SCRIPT_ENGINE.environment

# The issue's escape, with a harmless command. `FILE` is replaced by a path the test then checks.
ISSUE_ESCAPE = ("[c for c in ().__class__.__base__.__subclasses__() if c.__name__=='_wrap_close'][0]"
                ".__init__.__globals__['system']('id > FILE')")

# Known ways out of a Python sandbox, each as a designer could write it in a script.
ESCAPES: dict[str, str] = {
    "issue: subclasses walk to os.system": ISSUE_ESCAPE,
    "subclasses via __bases__": "x = ().__class__.__bases__[0].__subclasses__()",
    "object via __mro__": "x = ''.__class__.__mro__[-1]",
    "mro() of a type": "x = str.mro()[-1]",
    "builtins module via a builtin's __self__": "x = len.__self__.open('/etc/passwd')",
    "__builtins__ by name": "x = __builtins__['open']",
    "__import__": "x = __import__('os').system('id')",
    "import statement": "import os",
    "from-import": "from os import system",
    "exec": "exec('import os')",
    "eval": "x = eval('1 + 1')",
    "compile": "x = compile('1', 'f', 'eval')",
    "open": "x = open('/etc/passwd').read()",
    "function __globals__": "x = (lambda: 0).__globals__",
    "generator gi_frame.f_globals": "x = (y for y in [1]).gi_frame.f_globals",
    "generator frame f_back": "x = (y for y in [1]).gi_frame.f_back.f_globals",
    "generator gi_code": "x = (y for y in [1]).gi_code.co_consts",
    "traceback tb_frame through try": "try:\n    1 / 0\nexcept Exception as e:\n    x = e.__traceback__.tb_frame",
    "traceback frame attribute": "x = amount.tb_frame.f_globals",
    "with_traceback": "x = ValueError('a').with_traceback(None)",
    "format string attribute access": "x = '{0.__class__.__base__}'.format(amount)",
    "format string without dunders in the code": "x = '{0.real}'.format(amount)",
    "format_map": "x = '{a.__class__}'.format_map({'a': amount})",
    "str.format through the type": "x = str.format('{0.__class__}', amount)",
    "getattr with a constructed name": "x = getattr(amount, '_' + '_class__')",
    "type() three-argument form": "X = type('X', (), {})",
    "object by name": "x = object.__subclasses__()",
    "lambda default argument": "x = (lambda f=len: f)()",
    "lambda closure": "f = lambda: amount",
    "decorator": "@len\ndef f():\n    pass",
    "function definition": "def f():\n    return 1",
    "class definition": "class X:\n    pass",
    "walrus binding a generator": "x = (g := (y for y in [1])) and g.gi_frame",
    "object.__reduce_ex__": "x = [].__reduce_ex__(2)",
    "__class__ as a keyword": "x = dict(__class__=1)",
    "globals()": "x = globals()['__builtins__']",
    "locals()": "x = locals()",
    "vars()": "x = vars()",
    "dir()": "x = dir(amount)",
    "f-string attribute walk": "x = f'{().__class__.__base__}'",
    "f-string computed format spec": "x = f'{amount:{amount}}'",
    "with statement": "with open('/etc/passwd') as f:\n    pass",
    "global statement": "global amount",
    "match class pattern attribute lookup": "match amount:\n    case int(real=r):\n        pass",
    "yield at top level": "yield amount",
    "setting an attribute": "amount.real = 1",
    "private name": "_x = 1",
    "breakpoint": "breakpoint()",
    "iter/next": "x = next(iter([1]))",
    "async comprehension": "x = [y async for y in amount]",
}


def _problems(bpmn: bytes) -> list[ProblemLocation]:
    root, problem = parse_xml(bpmn, "two_step.bpmn")
    assert problem is None and root is not None
    return list(lint.lint_bpmn(root, "two_step.bpmn", FORMS))


def _with_script(script: str) -> bytes:
    return BPMN.replace(SCRIPT.encode(), escape(script).encode())


def _spec_deployed_before_the_check(replacements: dict[str, str]) -> tuple[Any, Any]:
    """The spec of two_step as stored by a deploy that did not check expressions (an older version):
    the texts are swapped in the stored spec, past the lint."""
    text = loader.parse_bundle({"two_step.bpmn": BPMN}, FORMS)[0].spec_json
    for old, new in replacements.items():
        old_json, new_json = json.dumps(old, ensure_ascii=False), json.dumps(new, ensure_ascii=False)
        assert old_json in text
        text = text.replace(old_json, new_json)
    return loader.spec_from_json(text)


def _run_to_script(replacements: dict[str, str], data: dict[str, Any] | None = None) -> None:
    spec, subs = _spec_deployed_before_the_check(replacements)
    workflow = runner.start(spec, subs, {"reviewer_group": "beta"})
    runner.complete_task(workflow, runner.ready_human_tasks(workflow)[0].id, data or {"amount": 3})
    runner.ready_human_tasks(workflow)  # (evaluates the review task's properties)


@pytest.mark.parametrize("script", list(ESCAPES.values()), ids=list(ESCAPES))
def test_escape_is_refused_at_deploy_naming_the_script_task(script: str) -> None:
    problems = _problems(_with_script(script))
    assert [(p.element_id, p.file) for p in problems] == [("double", "two_step.bpmn")], problems
    assert problems[0].message.en.startswith("script ") and problems[0].line
    assert "refused" in problems[0].message or "does not compile" in problems[0].message


@pytest.mark.parametrize("script", list(ESCAPES.values()), ids=list(ESCAPES))
def test_escape_is_refused_at_run_time_naming_the_script_task(script: str, tmp_path: Path) -> None:
    target = tmp_path / "pwned"
    script = script.replace("FILE", str(target))
    with pytest.raises(EngineFailure) as failure:
        _run_to_script({SCRIPT: script})
    assert "double" in failure.value.detail
    assert not target.exists()


def test_every_escape_is_refused_by_the_checker_itself() -> None:
    # not a syntax error that would hide a missing rule: each one parses and is refused by the check
    for name, script in ESCAPES.items():
        error = prepare(script, "exec").error
        assert error is not None and error[0] is UnsafeExpression, name
        with pytest.raises(UnsafeExpression):
            ENV.execute(script, {"amount": 1})


def test_the_issue_escape_runs_nothing(tmp_path: Path) -> None:
    target = tmp_path / "pwned"
    script = ISSUE_ESCAPE.replace("FILE", str(target))
    with pytest.raises(UnsafeExpression, match="__class__"):
        ENV.execute(script, {})
    with pytest.raises(UnsafeExpression, match="__class__"):
        ENV.evaluate(script, {})
    assert not target.exists()


# -- every place an expression is evaluated from ----------------------------------------------

_BAD = "().__class__.__base__.__subclasses__()"


def test_condition_is_refused_at_deploy_and_at_run_time() -> None:
    [problem] = _problems(BPMN.replace(b"amount &lt; 10", escape(_BAD).encode()))
    assert problem.element_id == "f5" and problem.message.en.startswith("condition refused")
    spec, subs = _spec_deployed_before_the_check({"amount < 10": _BAD})
    workflow = runner.start(spec, subs, {"reviewer_group": "beta"})
    runner.complete_task(workflow, runner.ready_human_tasks(workflow)[0].id, {"amount": 3})
    with pytest.raises(EngineFailure, match="refused") as failure:
        runner.complete_task(workflow, runner.ready_human_tasks(workflow)[0].id, {})
    assert "gw" in failure.value.detail or "f5" in failure.value.detail


def test_task_property_is_refused_at_deploy_and_at_run_time() -> None:
    [problem] = _problems(BPMN.replace(b'value="reviewer_group"', f'value="{escape(_BAD)}"'.encode()))
    assert problem.element_id == "review" and problem.message.en.startswith("candidateGroups refused")
    with pytest.raises(EngineFailure, match="at review .*candidateGroups: .*refused"):
        _run_to_script({"reviewer_group": _BAD})


@pytest.mark.parametrize("tag", ["preScript", "postScript"])
def test_pre_and_post_scripts_are_refused_at_deploy(tag: str) -> None:
    extension = f"<spiffworkflow:{tag}>{escape(_BAD)}</spiffworkflow:{tag}>".encode()
    bpmn = BPMN.replace(b"<spiffworkflow:properties><spiffworkflow:property name=\"candidateGroups\"",
                        b"<spiffworkflow:properties><spiffworkflow:property name=\"candidateGroups\"", 1)
    bpmn = bpmn.replace(b'<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property '
                        b'name="formJsonSchemaFilename"',
                        b"<bpmn:extensionElements>" + extension + b'<spiffworkflow:properties>'
                        b'<spiffworkflow:property name="formJsonSchemaFilename"')
    [problem] = _problems(bpmn)
    assert problem.element_id == "ask" and problem.message.en.startswith(f"{tag} refused")


def test_pre_script_is_refused_at_run_time() -> None:
    bpmn = BPMN.replace(b'<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property '
                        b'name="formJsonSchemaFilename"',
                        b"<bpmn:extensionElements><spiffworkflow:preScript>x = 1</spiffworkflow:preScript>"
                        b'<spiffworkflow:properties><spiffworkflow:property name="formJsonSchemaFilename"')
    text = loader.parse_bundle({"two_step.bpmn": bpmn}, FORMS)[0].spec_json
    text = text.replace(json.dumps("x = 1"), json.dumps(_BAD))
    spec, subs = loader.spec_from_json(text)
    with pytest.raises(EngineFailure, match="refused.*ask|ask.*refused"):
        runner.start(spec, subs, {"reviewer_group": "beta"})


def test_timer_expression_is_refused_at_deploy_and_at_run_time() -> None:
    timer = (b'<bpmn:boundaryEvent id="late" attachedToRef="review" cancelActivity="false">'
             b'<bpmn:timerEventDefinition id="late_def"><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">'
             b'"P7D"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>')
    end = b'<bpmn:endEvent id="end">'
    bpmn = BPMN.replace(end, timer + end)
    [problem] = _problems(bpmn.replace(b'"P7D"', escape(_BAD).encode()))
    assert problem.element_id == "late_def" and "refused" in problem.message
    text = loader.parse_bundle({"two_step.bpmn": bpmn}, FORMS)[0].spec_json
    text = text.replace(json.dumps('"P7D"'), json.dumps(_BAD))
    spec, subs = loader.spec_from_json(text)
    workflow = runner.start(spec, subs, {"reviewer_group": "beta"})
    with pytest.raises(EngineFailure, match="refused"):
        runner.complete_task(workflow, runner.ready_human_tasks(workflow)[0].id, {"amount": 3})


def _shipped() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (PROJECT_ROOT / "processes").iterdir()}


def _lint_dmn(text: bytes) -> list[ProblemLocation]:
    root, problem = parse_xml(text, "routing.dmn")
    assert problem is None and root is not None
    return list(lint.lint_dmn(root, "routing.dmn"))


@pytest.mark.parametrize(("old", "new", "element"), [
    (b"<text>category.split(\".\")[0]</text>", b"<text>category.__class__</text>", "input_category_expr"),
    (b'<inputEntry id="in_family"><text>"family"</text>', b'<inputEntry id="in_family"><text>.__class__</text>',
     "in_family"),
    (b'<inputEntry id="in_family"><text>"family"</text>',
     b'<inputEntry id="in_family"><text>? == ().__class__</text>', "in_family"),
    (b'<outputEntry id="out_group_family"><text>"family"</text>',
     b'<outputEntry id="out_group_family"><text>().__class__.__base__</text>', "out_group_family"),
])
def test_dmn_cells_are_refused_at_deploy(old: bytes, new: bytes, element: str) -> None:
    text = _shipped()["routing.dmn"]
    assert old in text
    problems = _lint_dmn(text.replace(old, new))
    assert {p.element_id for p in problems} == {element} and all("refused" in p.message for p in problems)


def test_dmn_cell_concatenated_onto_its_input_is_checked_as_the_engine_builds_it() -> None:
    # `v .__class__` parses, so the engine evaluates `category.split(".")[0].__class__`
    assert lint._check_input_entry('category.split(".")[0]', ".__class__") is not None
    assert lint._check_input_entry('category.split(".")[0]', '"family"') is None
    assert lint._check_input_entry("amount", "< 5") is None


def test_dmn_output_cell_is_refused_at_run_time() -> None:
    files = _shipped()
    forms = {p.name for p in (PROJECT_ROOT / "forms").iterdir()}
    text = {p.key: p for p in loader.parse_bundle(files, forms)}["dispute_case"].spec_json
    text = text.replace(json.dumps('"mediation"'), json.dumps(_BAD))
    spec, subs = loader.spec_from_json(text)
    workflow = runner.start(spec, subs, {"category": None, "case_no": "ZZ-1", "source": "walk_in"})
    [triage] = runner.ready_human_tasks(workflow)
    with pytest.raises(EngineFailure, match="refused") as failure:
        runner.complete_task(workflow, triage.id, {"category": "neighbor"})
    assert "route_case" in failure.value.detail


def test_every_shipped_file_passes_the_lint() -> None:
    forms = {p.name for p in (PROJECT_ROOT / "forms").iterdir()}
    for name, content in _shipped().items():
        root, problem = parse_xml(content, name)
        assert problem is None and root is not None
        found = list(lint.lint_dmn(root, name) if name.endswith(".dmn") else lint.lint_bpmn(root, name, forms))
        assert found == [], (name, found)


# -- resource bombs ---------------------------------------------------------------------------

BOMBS: dict[str, str] = {
    "while True": "while True:\n    pass",
    "while with a counter": "i = 0\nwhile i >= 0:\n    i += 1",
    "power tower": "x = 10 ** 10 ** 10",
    "huge power": "x = 2 ** 100000",
    "shift": "x = 1 << 10 ** 10",
    "squaring in a loop": "x = 3\nfor i in range(64):\n    x = x * x",
    "string repeat": "x = 'a' * 10 ** 12",
    "list repeat": "x = [0] * 10 ** 12",
    "repeat, operands swapped": "x = 10 ** 12 * 'ab'",
    "augmented repeat": "x = 'a'\nx *= 10 ** 12",
    "range iterated": "for i in range(10 ** 12):\n    pass",
    "range summed in C": "x = sum(range(10 ** 12))",
    "range listed": "x = list(range(10 ** 12))",
    "range sorted": "x = sorted(range(10 ** 12))",
    "range to a set": "x = set(range(10 ** 12))",
    "range to dict keys": "x = dict.fromkeys(range(10 ** 12))",
    "range zipped": "x = list(zip(range(10 ** 12)))",
    "range enumerated": "x = list(enumerate(range(10 ** 12)))",
    "range unpacked": "x = [*range(10 ** 12)]",
    "range extends a list": "x = []\nx.extend(range(10 ** 12))",
    "huge comprehension": "x = [i for i in range(10 ** 12)]",
    "nested comprehension": "x = len([1 for a in range(10 ** 4) for b in range(10 ** 4)])",
    "generator into any": "x = any(i < 0 for i in range(10 ** 12))",
    "map of sums (C calling C)": "x = max(map(sum, [range(10 ** 6)] * 10 ** 6))",
    "doubling a string": "s = 'a' * 1000\nfor i in range(100):\n    s = s + s",
    "doubling with +=": "s = ['a'] * 1000\nfor i in range(100):\n    s += s",
    "doubling by join": "s = 'a'\nfor i in range(100):\n    s = ''.join([s, s])",
    "doubling by unpacking": "s = [1] * 1000\nfor i in range(100):\n    s = [*s, *s]",
    "doubling by replace": "s = 'ab'\nfor i in range(100):\n    s = s.replace('a', 'aa')",
    "padding": "x = 'a'.ljust(10 ** 12)",
    "zfill": "x = '1'.zfill(10 ** 12)",
    "percent width": "x = '%1000000000s' % 'a'",
    "percent star width": "x = '%*s' % (10 ** 9, 'a')",
    "f-string width": "x = f'{amount:>1000000000}'",
    "shared structure printed": "x = [1]\nfor i in range(100):\n    x = [x, x]\ny = str(x)",
    "shared structure left in the data": "x = [1]\nfor i in range(100):\n    x = [x, x]",
    "shared structure unrolled, no loop": "x = [1]\n" + "x = [x, x]\n" * 60,
    "shared tuples hashed": "t = ()\nfor i in range(100):\n    t = (t, t)\ny = {t}",
    "shared structures compared": "a = [1]\nb = [1]\nfor i in range(100):\n    a = [a, a]\n    b = [b, b]\ny = a == b",
    "membership in a loop": "x = [0] * 100000\nn = 0\nfor i in range(100000):\n    n += -1 in x",
    "count in a loop": "x = [0] * 100000\nfor i in range(100000):\n    x.count(1)",
    "sum of lists": "x = sum([[1]] * 100000, [])",
    "cycle left in the data": "x = []\nx.append(x)",
}


@pytest.mark.parametrize("script", list(BOMBS.values()), ids=list(BOMBS))
def test_resource_bomb_is_refused(script: str) -> None:
    with pytest.raises(SandboxError, match="refused"):
        ENV.execute(script, {"amount": 1})


def test_resource_bomb_in_a_deployed_script_fails_the_step_naming_the_element() -> None:
    with pytest.raises(EngineFailure, match="refused") as failure:
        _run_to_script({SCRIPT: "while True:\n    amount = amount"})
    assert "double" in failure.value.detail
    spec, subs = _spec_deployed_before_the_check({"amount < 10": "amount < 10 ** 10 ** 10"})
    workflow = runner.start(spec, subs, {"reviewer_group": "beta"})
    runner.complete_task(workflow, runner.ready_human_tasks(workflow)[0].id, {"amount": 3})
    with pytest.raises(EngineFailure, match=r"refused: an integer .* at gw"):
        runner.complete_task(workflow, runner.ready_human_tasks(workflow)[0].id, {})


@pytest.mark.parametrize("expression", ["10 ** 10 ** 10", "'a' * 10 ** 12", "sum(range(10 ** 12))",
                                        "len([i for i in range(10 ** 12)])", "str([range(10 ** 12)])"])
def test_resource_bomb_in_an_expression_is_refused(expression: str) -> None:
    with pytest.raises(BudgetExceeded):
        ENV.evaluate(expression, {})


def test_task_data_is_bounded_as_a_whole() -> None:
    context: dict[str, Any] = {}
    ENV.execute("a = 'x' * 10000000", context)  # ~10 MB of text: below the limit alone
    with pytest.raises(BudgetExceeded, match="the size of the task data"):
        ENV.execute("b = 'y' * 10000000", context)


def test_identity_tests_do_not_walk_their_operands() -> None:
    big = list(range(900000))
    assert ENV.evaluate("x is not None and x is not y", {"x": big, "y": None}) is True
    with pytest.raises(BudgetExceeded):
        ENV.evaluate("x == x and x == x", {"x": big})


def test_the_budget_is_per_evaluation() -> None:
    script = "n = 0\nfor i in range(400000):\n    n += 1"  # more than half the budget (2 units a turn), twice
    context: dict[str, Any] = {}
    ENV.execute(script, context)
    ENV.execute(script, context)
    assert context["n"] == 400000


# -- what designers write keeps working ----------------------------------------------------------

def test_ordinary_python_behaves_as_python() -> None:
    context: dict[str, Any] = {"items": [3, 1, 2], "names": ["b", "a"], "d": {"k": 1}, "when": "2024-01-02"}
    ENV.execute("\n".join([
        "total = sum(items) + len(names)",
        "ordered = sorted(items, key=abs, reverse=True)",
        "upper = list(map(str.upper, names))",
        "kept = list(filter(None, [0, 1, 2]))",
        "alias = items",
        "alias += [4]",  # in place, as in Python: `items` sees it
        "d['k'] += 1",
        "pairs = {k: v for k, v in zip(names, items)}",
        "label = f\"{total:>4}|{'%s-%03d' % ('x', 7)}\"",
        "parsed = datetime.fromisoformat(when) + timedelta(days=1)",
        "day = parsed.strftime('%Y-%m-%d')",
        "big = max(items, default=0) ** 3 << 2",
        "firsts = [n[0] for n in names if n]",
        "n = 0",
        "while n < 5:\n    n += 1",
        "for i, name in enumerate(names, 1):\n    if i > 1:\n        break",
        "s = 'a-b-c'.split('-')[1:]",
        "u = set(items) | {9}",
        "rev = list(reversed(names))",
        "ok = isinstance(total, int) and any(x > 2 for x in items) and all(items)",
    ]), context)
    assert context["items"] == [3, 1, 2, 4] and context["d"] == {"k": 2} and context["total"] == 8
    assert context["ordered"] == [3, 2, 1] and context["upper"] == ["B", "A"] and context["kept"] == [1, 2]
    assert context["pairs"] == {"b": 3, "a": 1} and context["label"] == "   8|x-007"
    assert context["day"] == "2024-01-03" and context["big"] == 256 and context["firsts"] == ["b", "a"]
    assert context["n"] == 5 and context["s"] == ["b", "c"] and context["u"] == {1, 2, 3, 4, 9}
    assert context["rev"] == ["a", "b"] and context["ok"] is True
    assert "__builtins__" not in context and not any(key.startswith("__") for key in context)


def test_expressions_of_the_shipped_diagrams_evaluate_as_before() -> None:
    limit = '"P15D" if handling_group == "labor" else {"simple": "P1D", "general": "P7D"}[complexity]'
    assert ENV.evaluate(limit, {"handling_group": "x", "complexity": "general"}) == "P7D"
    assert ENV.evaluate('(category or "other").split(".")[0]', {"category": None}) == "other"
    assert ENV.evaluate('outcome in ("mediation_failed", "mediation_refused")', {"outcome": "mediation_failed"})
    assert ENV.evaluate("not satisfied and reopen_count < 1", {"satisfied": False, "reopen_count": 0})


def test_refusal_texts_for_the_lint() -> None:
    assert refusal("a < 1", "eval") is None
    assert (refusal("a <<< 1", "eval") or "").startswith("does not compile")
    assert refusal("a.__class__", "eval") == (
        "refused: attribute '__class__' starts with '_' (line 1 of the expression)")
    assert refusal("x = 1\ny = x.gi_frame", "exec") == (
        "refused: attribute 'gi_frame' is not allowed (line 2 of the expression)")


# -- through the API ------------------------------------------------------------------------------

def _upload(files: dict[str, bytes]) -> dict[str, Any]:
    return {"data": {"files": [(io.BytesIO(content), name) for name, content in files.items()]},
            "content_type": "multipart/form-data"}


def _dispute_case_with_the_escape() -> dict[str, bytes]:
    files = dict(BUNDLE)
    script = b"<bpmn:script>reopen_count = 0"
    assert script in files["dispute_case.bpmn"]
    files["dispute_case.bpmn"] = files["dispute_case.bpmn"].replace(
        script, b"<bpmn:script>" + escape(ISSUE_ESCAPE.replace("FILE", "/tmp/concord-pwned")).encode()
        + b"\nreopen_count = 0")
    return files


def test_deploying_the_issue_escape_is_refused_with_422_naming_the_element(api: Api) -> None:
    files = _dispute_case_with_the_escape()
    report = api.post("designer1", "/process-definitions/validate", **_upload(files))
    assert report["valid"] is False
    assert [(e["file"], e["element_id"]) for e in report["errors"]] == [("dispute_case.bpmn", "init_case")]
    problem = api.post("designer1", "/process-definitions", expect=422, **_upload(files))
    [error] = problem["errors"]
    assert error["element_id"] == "init_case" and "__class__" in error["message"] and error["line"] > 1
    assert [(d["key"], d["version"]) for d in api.get("designer1", "/process-definitions")] == [
        (key, 1) for key in ("dispute_case", "instruction", "instruction_department", "police_referral", "roadmap")]


@pytest.fixture
def unchecked_deploys(monkeypatch: pytest.MonkeyPatch, unwalked_deploys: None) -> Iterator[None]:
    """Deploys as they were before the check: nothing linted, nothing walked (what older stored versions are)."""
    monkeypatch.setattr(loader, "lint_bpmn", lambda *args: iter(()))
    yield


def test_an_escape_deployed_before_the_check_fails_registration_as_a_process_failure(
        api: Api, unchecked_deploys: None, tmp_path: Path) -> None:
    target = tmp_path / "pwned"
    files = _dispute_case_with_the_escape()
    files["dispute_case.bpmn"] = files["dispute_case.bpmn"].replace(b"/tmp/concord-pwned", str(target).encode())
    api.post("designer1", "/process-definitions", expect=201, **_upload(files))
    problem = api.register(expect=500)
    assert problem["type"].endswith("process-failure") or problem.get("slug") == "process-failure", problem
    assert "init_case" in problem["detail"] and "refused" in problem["detail"]
    assert not target.exists()
