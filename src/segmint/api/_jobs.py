"""Exports started from the API: background jobs that wait for the store.

An export writes to the store (its audit log, a destination's memberships), so it needs the
live store read-write, which a running ``segmint run`` may hold for minutes. A job is
queued, then tries to open the store every second ("waiting for the store") until it gets
it, runs :func:`segmint.activation.export_segment` (consent and suppression enforced, as
from the CLI), and is ``done`` with its report and file, or ``failed`` with the error.
Jobs live in the server's memory; the store's export log keeps every export for good.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

EXPORTS_DIR = Path(".segmint") / "exports"
WAIT_SECONDS = 2 * 3600


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class Job:
    job_id: str
    segment: str
    destination: str | None
    format: str | None
    mode: str | None
    channels: list[str] | None
    actor: str
    status: str = "queued"
    created_at: datetime = field(default_factory=_now)
    finished_at: datetime | None = None
    error: str | None = None
    report: dict[str, Any] | None = None
    file: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "segment": self.segment,
            "destination": self.destination,
            "format": self.format,
            "mode": self.mode,
            "actor": self.actor,
            "status": self.status,
            "created_at": self.created_at,
            "finished_at": self.finished_at,
            "error": self.error,
            "report": self.report,
            "download": f"/api/v1/exports/{self.job_id}/file" if self.file else None,
        }


def _locked(e: BaseException) -> bool:
    text = str(e).lower()
    return "lock" in text and ("conflicting" in text or "could not set" in text)


class ExportJobs:
    """The export jobs of one server (one worker thread per job)."""

    def __init__(self, root: Path, *, retry_every: float = 1.0) -> None:
        self.root = root
        self.retry_every = retry_every
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def submit(
        self,
        *,
        segment: str,
        destination: str | None,
        format: str | None,
        mode: str | None,
        channels: list[str] | None,
        actor: str,
    ) -> Job:
        job = Job(uuid.uuid4().hex[:16], segment, destination, format, mode, channels, actor)
        if format is not None:
            self._adhoc(job)  # a wrong ad hoc destination is the caller's error, now
        with self._lock:
            self._jobs[job.job_id] = job
        t = threading.Thread(target=self._run, args=(job,), name=f"export-{job.job_id}")
        t.daemon = True
        self._threads.append(t)
        t.start()
        return job

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def all(self) -> list[Job]:
        return sorted(self._jobs.values(), key=lambda j: j.created_at, reverse=True)

    def wait(self, job_id: str, timeout: float = 60.0) -> Job:
        """Block until the job is done or failed (for tests and scripts)."""
        deadline = time.monotonic() + timeout
        job = self._jobs[job_id]
        while job.status not in ("done", "failed") and time.monotonic() < deadline:
            time.sleep(0.05)
        return job

    def _open(self, job: Job) -> Any:
        from segmint.project import Project

        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            project = Project.open(self.root)
            try:
                project.engine  # noqa: B018  (opens the store read-write)
                return project
            except Exception as e:
                project.close()
                if not _locked(e) or time.monotonic() > deadline or self._stop.is_set():
                    raise
                job.status = "waiting for the store"
                time.sleep(self.retry_every)

    def _adhoc(self, job: Job) -> Any:
        """The ad hoc file destination of a job (``.segmint/exports/SEGMENT-JOB.FORMAT``)."""
        from pydantic import ValidationError

        from segmint._server_service import DefinitionError
        from segmint.activation import DestinationConfig

        path = self.root / EXPORTS_DIR / f"{job.segment}-{job.job_id}.{job.format}"
        try:
            return DestinationConfig.model_validate(
                {"name": f"adhoc-{job.format}", "kind": job.format, "path": str(path),
                 "channels": job.channels}
            )  # fmt: skip
        except ValidationError as e:
            msg = "; ".join(str(x["msg"]).removeprefix("Value error, ") for x in e.errors())
            raise DefinitionError(msg, "channels") from None

    def _run(self, job: Job) -> None:
        from segmint.activation import DestinationConfig, export_segment

        try:
            project = self._open(job)
            job.status = "running"
            try:
                dest: str | DestinationConfig
                if job.destination is not None:
                    dest = job.destination
                else:
                    adhoc = self._adhoc(job)
                    Path(str(adhoc.path)).parent.mkdir(parents=True, exist_ok=True)
                    dest = adhoc
                report = export_segment(
                    project,
                    job.segment,
                    dest,
                    mode=job.mode,
                    actor=job.actor,
                )
            finally:
                project.close()
            job.report = report.to_dict()
            location = Path(str(report.location)) if report.location else None
            if location is not None and location.is_file():
                job.file = location
            job.status = "done"
        except Exception as e:
            job.error = f"{type(e).__name__}: {e}"
            job.status = "failed"
        finally:
            job.finished_at = _now()

    def close(self) -> None:
        self._stop.set()
