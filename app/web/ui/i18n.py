"""Chinese first, English on request. Messages are English in the code and templates; the Chinese catalog
(translations/zh/LC_MESSAGES/messages.po) is compiled in memory at start-up, so there is no build step."""
from __future__ import annotations

from io import BytesIO
from pathlib import Path
from typing import Any

from babel import support
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, g, request, session
from flask_babel import Babel, Domain, get_locale, gettext

from app.errors import PROCESS_DEFINITION, PROCESS_STATE, Bilingual
from app.services.kernel import case_types, directory

LANGUAGES = ("zh", "en")
DEFAULT = "zh"
_DIR = Path(__file__).parent / "translations"
_cache: dict[str, support.Translations | support.NullTranslations] = {}


def _load(language: str) -> support.Translations | support.NullTranslations:
    path = _DIR / language / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return support.NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return support.Translations(fp=buffer)


class _PoDomain(Domain):
    def get_translations(self) -> Any:
        language = str(get_locale() or DEFAULT).split("_")[0]
        if language not in _cache:
            _cache[language] = _load(language)
        return _cache[language]


class _Babel(Babel):
    @property
    def domain_instance(self) -> Domain:
        return _DOMAIN


_DOMAIN = _PoDomain()


def select_language() -> str:
    chosen = session.get("lang") or request.cookies.get("lang")
    return chosen if chosen in LANGUAGES else DEFAULT


def current_language() -> str:
    return str(get_locale() or DEFAULT).split("_")[0]


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", app.config.get("TIMEZONE", "Asia/Shanghai"))
    _Babel(app, locale_selector=select_language, default_locale=DEFAULT)


def localise(message: str) -> str:
    """A domain message in the page's language: the matching half of a Bilingual one, else as it is."""
    if isinstance(message, Bilingual):
        return message.en if current_language() == "en" else message.zh
    return message


# Codes of route.md as people read them (the pages show the name; the code stays in the API).
_PROCEDURES = {"mediation": "Mediation", "judicial_confirmation": "Judicial confirmation",
               "arbitration": "Arbitration", "reconsideration": "Administrative reconsideration",
               "adjudication": "Administrative adjudication", "litigation": "Litigation", "petition": "Petition",
               "complaint": "Complaint", "police_mediation": "Police mediation", "joint_mediation": "Joint handling",
               "department_follow_up": "Department follow-up"}


_ROLES = {"intake": "Intake officer", "handler": "Handler or mediator", "supervisor": "Supervisor",
          "designer": "Process designer", "admin": "Administrator", "integration": "Integration account"}
_KINDS = {"window": "Window", "dispatch": "Dispatch", "mediation": "Mediation room", "department": "Department",
          "supervision": "Supervision", "external": "External body"}


def role_label(code: str | None) -> str:
    return gettext(_ROLES[code]) if code in _ROLES else (code or "—")


def kind_label(code: str | None) -> str:
    return gettext(_KINDS[code]) if code in _KINDS else (code or "—")


def group_label(code: str | None) -> str:
    """A group's name as the administrators gave it (its key only for a group nobody has created)."""
    return directory.current().label(code, english=current_language() == "en")


def case_type_label(key: str | None) -> str:
    """A case type's name (its process's own name), read once per request: lists show it on every row."""
    if not key:
        return "—"
    if "case_type_names" not in g:
        g.case_type_names = case_types.names()
    return str(g.case_type_names.get(key, key))


def field_choices(field: str) -> dict[str, str]:
    """A case field's codes and names (category, urgency, source), read once per request."""
    cache = g.setdefault("field_choices", {})
    if field not in cache:
        cache[field] = case_types.field_choices(field)
    return dict(cache[field])


def choice_label(field: str, code: str | None) -> str:
    """A case field's code as people read it (its form's name for it)."""
    if not code:
        return "—"
    return field_choices(field).get(code, code)


def procedure_label(code: str | None) -> str:
    return gettext(_PROCEDURES[code]) if code in _PROCEDURES else (code or "—")


# What failed, by the operation of a step incident or the kind of a timer one (app.services.kernel.incidents).
_INCIDENTS = {"register": "Starting the process of a registration failed", "complete": "Completing a task failed",
              "message": "Delivering a message failed", "open": "Opening a task failed",
              "diagram": "Drawing the case's diagram failed", "engine": "A process timer failed",
              "warning": "The warning timer failed", "overdue": "The overdue timer failed",
              "listed": "The listing timer failed"}
_STORED = {PROCESS_STATE: "the process state", PROCESS_DEFINITION: "the process definition"}


def incident_label(item: dict[str, Any]) -> str:
    """What failed, as people say it (the board's incidents)."""
    key = item.get("operation") if item.get("incident_kind") == "step" else item.get("kind")
    return gettext(_INCIDENTS[key]) if key in _INCIDENTS else gettext("Incident")


def element_label(item: dict[str, Any]) -> str:
    """Where it failed: the element's name in the diagram, else its id; the stored state or definition."""
    element = item.get("element") or item.get("name") or ""
    if element in _STORED:
        return gettext(_STORED[element])
    return str(item.get("element_name") or element or "—")


def explain(exc: Any) -> str:
    """A domain error for a page: its field messages when it has any, else its detail; in the page's
    language where the service gave both (errors.Bilingual)."""
    errors = getattr(exc, "errors", None) or []
    return "；".join(localise(e.message) for e in errors) if errors else localise(exc.detail)


def case_types_for_filter() -> list[dict[str, str]]:
    """The case types a list can be filtered by: key and name, by name."""
    if "case_type_names" not in g:
        g.case_type_names = case_types.names()
    return [{"key": key, "name": name} for key, name in sorted(g.case_type_names.items(), key=lambda kv: kv[1])]
