"""The dependency rule of architecture.md, checked mechanically so that it cannot rot."""
from __future__ import annotations

import ast
import logging
import os
from pathlib import Path

from importlinter.cli import lint_imports

from app.config import PROJECT_ROOT

APP = PROJECT_ROOT / "app"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _modules(under: Path) -> list[Path]:
    return sorted(under.rglob("*.py"))


def test_only_the_engine_imports_spiffworkflow() -> None:
    offenders = [str(p.relative_to(PROJECT_ROOT)) for p in _modules(APP)
                 if "engine" not in p.relative_to(APP).parts
                 and any(n.split(".")[0] == "SpiffWorkflow" for n in _imports(p))]
    assert offenders == []


def test_web_code_never_imports_models_or_the_orm() -> None:
    offenders = [str(p.relative_to(PROJECT_ROOT)) for p in _modules(APP / "web")
                 if any(n.startswith(("app.models", "sqlalchemy")) for n in _imports(p))]
    assert offenders == []


def test_import_linter_contracts_are_kept() -> None:
    cwd = os.getcwd()
    os.chdir(PROJECT_ROOT)
    # import-linter configures logging for its command line, disabling every logger that exists:
    # put it back, or later tests would see no log records from Concord.
    loggers = [logger for logger in logging.root.manager.loggerDict.values() if isinstance(logger, logging.Logger)]
    disabled, root_level = [logger.disabled for logger in loggers], logging.root.level
    try:
        assert lint_imports(config_filename=str(PROJECT_ROOT / "setup.cfg")) == 0
    finally:
        os.chdir(cwd)
        for logger, was_disabled in zip(loggers, disabled, strict=True):
            logger.disabled = was_disabled
        logging.root.setLevel(root_level)


def test_only_the_queries_modules_run_prepared_statements() -> None:
    """The prepared-statement mechanism is a private detail of each domain's queries.py."""
    offenders = [str(p.relative_to(PROJECT_ROOT)) for p in _modules(APP)
                 if p.name != "queries.py" and p.name != "prepared.py" and "app.prepared" in _imports(p)]
    assert offenders == []


def test_a_service_domain_is_a_package_mirrored_by_its_api_and_pages() -> None:
    domains = {p.name for p in (APP / "services").iterdir() if (p / "__init__.py").exists()}
    assert {"kernel", "intake", "inbox", "escalation", "designer", "reports", "accounts", "operations"} <= domains
    for layer in ("web/api", "web/ui"):
        mirrored = {p.name for p in (APP / layer).iterdir() if (p / "__init__.py").exists()}
        assert mirrored <= domains, f"{layer} has packages no service domain has: {mirrored - domains}"
    assert not [p.name for p in (APP / "services").glob("*.py") if p.name not in ("__init__.py", "demo.py")], \
        "modules belong in a domain package (demo.py seeds across domains, above them)"
