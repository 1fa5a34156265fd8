"""WSGI entry point for production servers: `gunicorn 'app.wsgi:application'`.

Each worker process also runs the timer service unless CONCORD_TIMERS_IN_PROCESS is off (then run
`concord timers run` workers instead); timers still fire exactly once however many processes poll."""
from __future__ import annotations

from app import create_app, jobs

application = create_app()
if application.config["TIMERS_IN_PROCESS"]:
    jobs.start_scheduler(application.config["TIMER_POLL_SECONDS"])
