"""The follow-up survey sweep ``cornerstore serve`` runs: every ``outcomes.survey_email_minutes``
it makes the surveys of newly resolved cases and e-mails them
(:meth:`~cornerstore.outcomes.service.ServiceOutcomes.deliver_surveys`), so a customer hears
from the shop within minutes of their case being resolved, without a cron job.

One daemon thread; a run that fails is logged (its type only: a message may quote customer
data) and the next run tries again.
"""

from __future__ import annotations

import logging
import threading

from cornerstore.access.caller import system_caller
from cornerstore.outcomes.service import ServiceOutcomes

log = logging.getLogger(__name__)


class SurveySweep:
    """Runs the survey e-mail at once and then every ``minutes`` until :meth:`stop`.

    Examples
    --------
    >>> from cornerstore.services import Services
    >>> from cornerstore.settings import Settings
    >>> from cornerstore.storage import open_store
    >>> services = Services.build(Settings(), open_store("sqlite://", upgrade=True))
    >>> sweep = SurveySweep(services.outcomes, minutes=5)
    >>> sweep.start(); sweep.stop(); sweep.runs
    1
    """

    def __init__(self, outcomes: ServiceOutcomes, minutes: float) -> None:
        self.outcomes = outcomes
        self.seconds = minutes * 60
        self.caller = system_caller(via="library", actor="serve:survey-sweep")
        self.runs = 0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="survey-sweep", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 60.0) -> None:
        """Stop after the run in progress (if any) has finished."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while True:
            try:
                report = self.outcomes.deliver_surveys(self.caller)
                if report.made or report.sent or report.failed:
                    log.info(
                        "survey sweep: %d made, %d e-mailed, %d refused, %d without an address",
                        report.made, report.sent, report.failed, report.no_address,
                    )  # fmt: skip
            except Exception as exc:
                log.error("survey sweep failed: %s", type(exc).__name__)
            self.runs += 1
            if self._stopping.wait(self.seconds):
                return
