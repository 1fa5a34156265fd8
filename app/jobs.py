"""Background jobs: the timer service, in the web process (APScheduler) or as a standalone worker.

Every worker claims due timers with SKIP LOCKED, so any number of them may run on any number of
nodes; each timer still fires exactly once."""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone

from apscheduler.schedulers.background import BackgroundScheduler

from app import runtime
from app.errors import DatabaseUnavailable
from app.services.kernel import timers

log = logging.getLogger(__name__)


def _pass(worker: str | None = None) -> None:
    try:
        report = timers.run_once(worker=worker)
        if report.fired or report.failed or report.incidents:
            log.info("timers: fired %d, retried later %d, incidents %d", report.fired, report.failed, report.incidents)
    except DatabaseUnavailable as exc:  # an outage, not a bug: the next pass tries again
        log.warning("timer pass skipped: %s", exc.detail)
    except Exception:  # anything else: log it with its trace, the next pass tries again
        log.exception("timer pass failed")


def start_scheduler(poll_seconds: float) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(daemon=True)
    # coalesce + one instance: a slow pass is never stacked. The first pass runs at once, so whatever came
    # due while the service was down fires right after start. (The scheduler paces itself on the wall
    # clock; what is due is decided by app.clock inside run_once.)
    scheduler.add_job(_pass, "interval", seconds=poll_seconds, id="concord-timers", coalesce=True,
                      max_instances=1, next_run_time=datetime.now(timezone.utc))
    scheduler.start()
    runtime.scheduler = scheduler
    return scheduler


def stop_scheduler() -> None:
    if runtime.scheduler is not None:
        runtime.scheduler.shutdown(wait=False)
        runtime.scheduler = None


def run_forever(poll_seconds: float, worker: str | None = None) -> None:
    stop = threading.Event()
    try:
        while not stop.is_set():
            _pass(worker)
            stop.wait(poll_seconds)
    except KeyboardInterrupt:
        log.info("timer worker stopped")
