"""Domain errors. Each maps to one HTTP status and problem type at the web edge; no Flask here."""
from __future__ import annotations

from dataclasses import dataclass


class Bilingual(str):
    """A message in Chinese and English. As text it reads "中文 / English" (what the API answers);
    the pages show the half of their language (`.zh`, `.en`) instead of splitting text."""

    zh: str
    en: str

    def __new__(cls, zh: str, en: str) -> Bilingual:
        text = super().__new__(cls, f"{zh} / {en}")
        text.zh, text.en = zh, en
        return text


@dataclass
class FieldError:
    field: str
    message: str


@dataclass
class ProblemLocation:
    """Where a process or form file is wrong: file, line and BPMN element."""

    file: str | None
    line: int | None
    element_id: str | None
    message: str


class ConcordError(Exception):
    status = 500
    title = "Internal error"
    slug = "internal"

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title


class BadRequest(ConcordError):
    status, title, slug = 400, "Malformed request", "malformed-request"


class UnsupportedMediaType(ConcordError):
    status, title, slug = 415, "Unsupported media type", "unsupported-media-type"


class PayloadTooLarge(ConcordError):
    status, title, slug = 413, "Payload too large", "payload-too-large"


class Unauthenticated(ConcordError):
    status, title, slug = 401, "Authentication required", "unauthenticated"


class Forbidden(ConcordError):
    status, title, slug = 403, "Not allowed", "forbidden"


class NotFound(ConcordError):
    status, title, slug = 404, "Not found", "not-found"


class Conflict(ConcordError):
    status, title, slug = 409, "State conflict", "conflict"


class TaskNotOpen(Conflict):
    title, slug = "Task is not open", "task-not-open"


class TaskHeldByOther(Conflict):
    title, slug = "Task is held by someone else", "task-held"


class TooManyRequests(ConcordError):
    """Refused for now; `retry_after` seconds later the same request may succeed."""

    status, title, slug = 429, "Too many requests", "too-many-requests"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = max(1, retry_after)


class ConcurrentUpdate(Conflict):
    title, slug = "Concurrent update lost the race", "concurrent-update"


class ValidationFailed(ConcordError):
    status, title, slug = 422, "Validation failed", "validation-failed"

    def __init__(self, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.errors = errors or []

    @classmethod
    def of_field(cls, field: str, zh: str, en: str) -> ValidationFailed:
        """One field refused, said in both languages (the detail is the English)."""
        return cls(en, [FieldError(field, Bilingual(zh, en))])


class FormInvalid(ValidationFailed):
    title, slug = "Form data is invalid", "form-invalid"


class ProcessInvalid(ConcordError):
    """A BPMN/DMN/form bundle that does not parse or fails the lint; carries every problem found."""

    status, title, slug = 422, "Process definition is invalid", "process-invalid"

    def __init__(self, problems: list[ProblemLocation]) -> None:
        self.problems = problems
        super().__init__("; ".join(
            f"{p.file or '?'}:{p.line or '?'} {p.element_id or ''} {p.message}".strip() for p in problems))


PROCESS_STATE = "the process state"  # the element a failure names when a stored state does not load or save
PROCESS_DEFINITION = "the process definition"  # ... and when a deployed definition's stored spec does not load


class EngineFailure(ConcordError):
    """The process failed inside the engine at `element` (a BPMN id, or PROCESS_STATE): a script or
    expression raising at run time, the engine reaching Python's recursion limit on a very long history,
    a stored state that no longer loads. Nothing of the step is saved; the service that ran the step
    records an incident (`incident`, its id, once recorded)."""

    status, title, slug = 500, "Process execution failed", "process-failure"

    def __init__(self, element: str, error: str, *, name: str | None = None,
                 detail: Bilingual | None = None) -> None:
        where = f"{element} ({name})" if name and name != element else element
        super().__init__(detail or Bilingual(f"流程在 {where} 处执行失败：{error}",
                                             f"the process failed at {where}: {error}"))
        self.element, self.name, self.error = element, name, error
        self.incident: int | None = None

class DatabaseUnavailable(ConcordError):
    """The database cannot be reached, does not answer in time (stopped, frozen, cut off), or refuses work
    for operational reasons (shutting down, out of connections or disk, a statement past its timeout).
    A command cut off while committing may or may not have been applied: read before retrying it."""

    status, title, slug = 503, "Database unavailable", "database-unavailable"
