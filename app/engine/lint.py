"""Deploy-time checks the parser does not make: every expression, script and timer must compile and
pass the sandbox's check (app/engine/sandbox.py), every user task must have a group and a form that
exists, so a bad diagram fails at deploy and not when a token reaches it at 3 a.m."""
from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from app.engine.lint_messages import bilingual
from app.engine.sandbox import refusal
from app.engine.xml import parse_xml
from app.errors import Bilingual, ProblemLocation
from app.states import CaseStatus
from app.workdays import Limit, LimitError

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN, "spiffworkflow": SPIFF}
FORM_PROPERTIES = ("formJsonSchemaFilename", "formUiSchemaFilename")
ON_COMPLETE_EFFECTS = ("supervision",)  # what the platform does when such a task completes
# The case statuses of route.md; a task's caseStatus sets one of them while it is open.
CASE_STATUSES = tuple(CaseStatus)
_DURATION_LIKE = re.compile(r"^\s*[+-]?P", re.IGNORECASE)
# The other places the engine evaluates an expression from (conditional events, multi-instance and loop
# conditions, message payloads and correlations); each is checked like a gateway condition.
_OTHER_EXPRESSIONS = (
    (".//bpmn:conditionalEventDefinition/bpmn:condition", "event condition"),
    (".//bpmn:loopCardinality", "loop cardinality"),
    (".//bpmn:completionCondition", "completion condition"),
    (".//bpmn:loopCondition", "loop condition"),
    (".//bpmn:correlationPropertyRetrievalExpression/bpmn:formalExpression", "correlation expression"),
    (".//bpmn:correlationPropertyRetrievalExpression/bpmn:messagePath", "correlation expression"),
    (".//spiffworkflow:messagePayload", "message payload"),
    (".//spiffworkflow:processVariableCorrelation/spiffworkflow:expression", "correlation expression"),
)


def _owner_id(node: etree._Element) -> str | None:
    while node is not None:
        if node.get("id"):
            return node.get("id")
        node = node.getparent()
    return None


def _problem(file: str, node: etree._Element, message: str) -> ProblemLocation:
    return ProblemLocation(file, node.sourceline, _owner_id(node), bilingual(message) if message else message)


def _compile(text: str, mode: str) -> str | None:
    """Why `text` cannot be evaluated as it is at run time (syntax, or the sandbox's refusal)."""
    return refusal(text, mode)


def _check_timer(text: str, kind: str) -> str | None:
    error = _compile(text, "eval")
    if error:
        return f"timer expression {error}"
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None  # a variable or a computation: evaluated when the token arrives
    if not isinstance(value, str):
        return "timer expression must evaluate to an ISO 8601 text"
    try:
        if kind == "timeDate":
            TimerEventDefinition.get_datetime(value)
        elif kind == "timeCycle":
            TimerEventDefinition.parse_iso_recurring_interval(value)
        else:
            TimerEventDefinition.parse_iso_duration(value)
    except Exception:  # the engine raises assorted errors for bad ISO text
        return f"timer value {value!r} is not a valid ISO 8601 {kind}"
    return None


def _results(node: ast.expr) -> list[ast.expr]:
    """The sub-expressions whose value can be the expression's value (through `a if c else b`,
    `a or b`); the comparisons and conditions in between are not results."""
    if isinstance(node, ast.IfExp):
        return _results(node.body) + _results(node.orelse)
    if isinstance(node, ast.BoolOp):
        return [result for value in node.values for result in _results(value)]
    return [node]


def _check_limits(expression: str) -> Iterator[str]:
    """Every duration written in a timeLimit expression must parse (P7D, PT4H, P3M) and be countable,
    and a constant result must be a duration: a bad one would stop every case reaching the task."""
    tree = ast.parse(expression, mode="eval")
    texts = {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)
             and isinstance(node.value, str) and _DURATION_LIKE.match(node.value)}
    for result in _results(tree.body):
        if isinstance(result, ast.Constant) and result.value not in (None, ""):
            if not isinstance(result.value, str):
                yield f"timeLimit: {result.value!r} is not a duration text such as \"P7D\""
            else:
                texts.add(result.value)
    for text in sorted(texts):
        try:
            Limit.parse(text)
        except LimitError as exc:
            yield f"timeLimit: {exc}"


def _check_status(expression: str) -> Iterator[str]:
    for result in _results(ast.parse(expression, mode="eval").body):
        if isinstance(result, ast.Constant) and result.value not in (None, "") and result.value not in CASE_STATUSES:
            yield f"caseStatus {result.value!r} is not one of: {', '.join(CASE_STATUSES)}"


def _has_month_limit(expression: str) -> bool:
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError:
        return False
    return any(isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("P")
               and Limit.is_months(node.value) for node in ast.walk(tree))


def is_executable(process: etree._Element) -> bool:
    """Only processes marked isExecutable="true" run; the others document (the BPMN MIWG reference models)."""
    return (process.get("isExecutable") or "").strip().lower() == "true"


def _in_executable(node: etree._Element, file_executes: bool) -> bool:
    """Whether `node` belongs to an executable process (or, outside every process, to a file that has one)."""
    while node is not None:
        if node.tag == f"{{{BPMN}}}process":
            return is_executable(node)
        node = node.getparent()
    return file_executes


def _find(root: etree._Element, path: str) -> Iterator[etree._Element]:
    """The nodes `path` finds where they run: documentation models are checked by the schema, not for
    execution (an empty <timeDate/> or a lane-less task is fine there)."""
    file_executes = any(is_executable(p) for p in root.iterfind("bpmn:process", NS))
    return (node for node in root.iterfind(path, NS) if _in_executable(node, file_executes))


def lint_bpmn(root: etree._Element, file: str, available_forms: set[str]) -> Iterator[ProblemLocation]:
    for cond in _find(root, ".//bpmn:conditionExpression"):
        error = _compile((cond.text or "").strip() or "True", "eval")
        if error:
            yield _problem(file, cond, f"condition {error}")
    for script in _find(root, ".//bpmn:script"):
        error = _compile(script.text or "", "exec")
        if error:
            yield _problem(file, script, f"script {error}")
    for task in _find(root, ".//bpmn:scriptTask"):
        # the engine runs any child whose tag ends in "script", not only bpmn:script
        for script in task:
            if isinstance(script.tag, str) and script.tag.endswith("script") and script.tag != f"{{{BPMN}}}script":
                error = _compile(script.text or "", "exec")
                if error:
                    yield _problem(file, script, f"script {error}")
    for tag in ("preScript", "postScript"):
        for script in _find(root, f".//spiffworkflow:{tag}"):
            error = _compile(script.text or "", "exec")
            if error:
                yield _problem(file, script, f"{tag} {error}")
    for path, what in _OTHER_EXPRESSIONS:
        for node in _find(root, path):
            text = (node.text or "").strip()
            error = _compile(text, "eval") if text else None
            if error:
                yield _problem(file, node, f"{what} {error}")
    for param in _find(root, ".//spiffworkflow:parameter"):
        error = _compile(param.get("value") or "None", "eval")
        if error:
            yield _problem(file, param, f"parameter {param.get('id')!r} {error}")
    for kind in ("timeDuration", "timeDate", "timeCycle"):
        for timer in _find(root, f".//bpmn:{kind}"):
            error = _check_timer((timer.text or "").strip(), kind)
            if error:
                yield _problem(file, timer, error)
    for prop in _find(root, ".//spiffworkflow:property"):
        name, value = prop.get("name"), prop.get("value") or ""
        if name == "onComplete" and value not in ON_COMPLETE_EFFECTS:
            yield _problem(file, prop, f"onComplete {value!r} is not one of: {', '.join(ON_COMPLETE_EFFECTS)}")
        if name in FORM_PROPERTIES and value not in available_forms:
            yield _problem(file, prop, Bilingual(
                f"表单文件 {value} 既不在上传中，也不在已部署的版本中",
                f"form file {value!r} is neither in the upload nor in a deployed version"))
        if name in ("candidateGroups", "timeLimit", "timeLimitCalendar", "caseStatus", "procedure"):
            error = _compile(value, "eval")
            if error:
                yield _problem(file, prop, f"{name} {error}")
            elif name == "timeLimit":
                yield from (_problem(file, prop, message) for message in _check_limits(value))
            elif name == "caseStatus":
                yield from (_problem(file, prop, message) for message in _check_status(value))
    for task in _find(root, ".//bpmn:userTask"):
        props = {p.get("name"): p for p in task.iterfind(".//spiffworkflow:property", NS)}
        limit, calendar = props.get("timeLimit"), props.get("timeLimitCalendar")
        if limit is not None and _has_month_limit(limit.get("value") or "") and (
                calendar is None or (calendar.get("value") or "").strip() != '"calendar"'):
            yield _problem(file, limit, 'month limits count calendar months: set timeLimitCalendar to "calendar"')
    lanes_of = {ref.text: lane for lane in _find(root, ".//bpmn:lane")
                for ref in lane.iterfind("bpmn:flowNodeRef", NS)}
    for task in _find(root, ".//bpmn:userTask"):
        has_binding = task.find(".//spiffworkflow:property[@name='candidateGroups']", NS) is not None
        if not has_binding and lanes_of.get(task.get("id")) is None:
            yield _problem(file, task, "user task has neither a lane nor a candidateGroups property")


_DMN_INPUT = re.compile(r"(\?)(?=(?:[^'\"]|['\"][^'\"]*['\"])*$)")


def lint_dmn(root: etree._Element, file: str) -> Iterator[ProblemLocation]:
    ns = {"dmn": root.nsmap.get(None) or ""}
    for table in root.iterfind(".//dmn:decisionTable", ns):
        inputs: list[str | None] = []
        for expr in table.iterfind("dmn:input/dmn:inputExpression/dmn:text", ns):
            error = _compile(expr.text or "", "eval")
            if error:
                yield _problem(file, expr, f"input expression {error}")
            inputs.append(None if error else (expr.text or "").strip() or "v")
        for rule in table.iterfind("dmn:rule", ns):
            for column, entry in enumerate(rule.iterfind("dmn:inputEntry/dmn:text", ns)):
                input_expression = inputs[column] if column < len(inputs) else "v"
                if input_expression is None:
                    continue  # its column's input is refused already: one problem, not one per rule
                message = _check_input_entry(input_expression, entry.text)
                if message:
                    yield _problem(file, entry, message)
    for entry in root.iterfind(".//dmn:outputEntry/dmn:text", ns):
        error = _compile((entry.text or "").strip() or "None", "eval")
        if error:
            yield _problem(file, entry, f"output entry {error}")


def _check_input_entry(input_expression: str, text: str | None) -> str | None:
    """An input cell is evaluated as the engine builds it (DMNEngine.evaluate): with `?` standing for the
    input value, else `(input) == (cell)` when the cell parses alone, else `input` + `cell` (`< 5`)."""
    text = (text or "").strip()
    if text in ("", "-"):
        return None
    # The engine's DMN syntax: `?` stands for the input value (outside quotes), e.g. ? in ("a", "b").
    text = _DMN_INPUT.sub("dmninputexpr", text)
    if "dmninputexpr" in text:
        built = text
    elif _syntax_ok(text):
        built = f"({input_expression}) == ({text})"
    elif _syntax_ok(f"v {text}"):
        built = input_expression + text
    else:
        return f"input entry {text!r} does not compile"
    error = _compile(built, "eval")
    return f"input entry {text!r} {error}" if error else None


def _syntax_ok(text: str) -> bool:
    try:
        ast.parse(text, mode="eval")
    except SyntaxError:
        return False
    return True


def group_references(files: dict[str, bytes]) -> list[tuple[str, ProblemLocation]]:
    """The groups the BPMN files name: lanes whose user tasks do not all pick their group by
    `candidateGroups`, and `candidateGroups` written as a literal ("mediation" or ["a", "b"]). A group
    chosen at run time (a variable such as `handling_group`) is not known until then."""
    found: list[tuple[str, ProblemLocation]] = []
    for name in sorted(files):
        if not name.endswith(".bpmn"):
            continue
        root, problem = parse_xml(files[name], name)
        if root is None or problem is not None:
            continue
        for lane in _find(root, ".//bpmn:lane"):
            refs = {ref.text for ref in lane.iterfind("bpmn:flowNodeRef", NS)}
            tasks = [t for t in root.iterfind(".//bpmn:userTask", NS) if t.get("id") in refs]
            bound = all(t.find(".//spiffworkflow:property[@name='candidateGroups']", NS) is not None for t in tasks)
            if lane.get("name") and tasks and not bound:
                found.append((lane.get("name", ""), _problem(name, lane, "")))
        for prop in _find(root, ".//spiffworkflow:property[@name='candidateGroups']"):
            try:
                value = ast.literal_eval((prop.get("value") or "").strip())
            except (ValueError, SyntaxError):
                continue  # an expression: decided when the task opens
            for group in value if isinstance(value, (list, tuple)) else [value]:
                if isinstance(group, str):
                    found.append((group, _problem(name, prop, "")))
    return found

