"""Where the jobs run: in this process (`--workers 0`), or on Ray actors, one per worker.

Each Ray actor is a ForgeWorker: it loads each pipeline once and runs job after job. A local
Ray cluster is started for `--workers N`; `--ray-address` joins an existing one instead (every
node needs talkinghead installed and the output folder at the same path, a shared disk).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

from ..errors import InputError
from .config import ForgeConfig
from .plan import Job
from .worker import ForgeWorker

Task = tuple[Job, str]  # a job and its hash


class LocalExecutor:
    """Runs the jobs one after another in this process."""

    workers = 1

    def __init__(self, out: Path, config: ForgeConfig):
        self.worker = ForgeWorker(out, config, threads=None)

    def run(self, tasks: list[Task]) -> Iterator[dict[str, Any]]:
        for job, digest in tasks:
            yield self.worker.run(job, digest)

    def close(self) -> None:
        self.worker.close()


class RayExecutor:
    """Runs the jobs on `workers` Ray actors (one CPU each); results come back as they finish.

    A worker that is lost (its process killed, its node gone) is restarted and its job retried
    once by Ray; if that fails too, the job is recorded as failed and the rest goes on.
    """

    def __init__(self, out: Path, config: ForgeConfig, *, workers: int, address: str | None = None):
        try:
            import ray
        except ImportError:
            raise InputError("Ray is not installed: pip install 'talkinghead[forge]', or run with --workers 0") from None
        import logging

        self.ray = ray
        logging.getLogger("ray").setLevel(logging.ERROR)  # its start-up notices would break the progress bar
        ray.init(address=address, num_cpus=None if address else workers, include_dashboard=False,
                 log_to_driver=False, configure_logging=False, ignore_reinit_error=True)  # fmt: skip
        actor = ray.remote(num_cpus=1, max_restarts=1, max_task_retries=1)(ForgeWorker)
        self.actors = [actor.remote(str(out), config) for _ in range(workers)]
        self.workers = workers

    def run(self, tasks: list[Task]) -> Iterator[dict[str, Any]]:
        queue = list(reversed(tasks))
        running: dict[Any, tuple[Any, Job]] = {}

        def submit(actor) -> None:
            if queue:
                job, digest = queue.pop()
                running[actor.run.remote(job, digest)] = (actor, job)

        for actor in self.actors:
            submit(actor)
        while running:
            [ref], _ = self.ray.wait(list(running), num_returns=1)
            actor, job = running.pop(ref)
            try:
                yield self.ray.get(ref)
            except self.ray.exceptions.RayError as exc:  # the worker died twice on this job
                yield {"job": job.key, "status": "failed", "error": "LostWorker", "bug": False,
                       "message": f"the worker running it was lost ({type(exc).__name__})"}  # fmt: skip
            submit(actor)

    def close(self) -> None:
        """Stop the actors (killing any job still running) and disconnect."""
        for actor in self.actors:
            self.ray.kill(actor)
        self.ray.shutdown()


def executor(out: Path, config: ForgeConfig, *, workers: int, address: str | None):
    """LocalExecutor for workers == 0 without an address, else RayExecutor."""
    if workers < 0:
        raise InputError(f"--workers must be 0 (this process) or more, got {workers}")
    if workers == 0 and address is None:
        return LocalExecutor(out, config)
    return RayExecutor(out, config, workers=max(workers, 1), address=address)
