"""What this process runs with: the settings in force and the in-process timer scheduler, if any."""
from __future__ import annotations

from typing import Any

# The running configuration (see app.config); create_app fills it, services read it.
settings: dict[str, Any] = {}

# The in-process timer scheduler (APScheduler), when this process runs one.
scheduler: Any = None


def scheduler_state() -> str:
    return "running" if scheduler is not None and getattr(scheduler, "running", False) else "stopped"
