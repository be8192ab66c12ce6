"""ForgeWorker: runs one job, start to finish, and writes its record last.

A fake is rendered once and its frames go to every compression's encoder at the same time,
its masks to a lossless FFV1 file; a real video is decoded once and re-encoded the same way, so
that compression is no cue that tells reals from fakes. Each file is written atomically; the
job's record (.forge/jobs/...) comes last, so a job killed half-way has no record and is made
again on the next run, and a finished one is never made twice.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import traceback
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from ..errors import InputError, TalkingHeadError, first_line
from ..io.atomic import write_atomically
from ..types import RenderedChunk
from .config import CRF, ForgeConfig
from .layout import first_frame_file, mask_file, motion_file, record_file, video_file, work_folder
from .metadata import entry, frame_names, mask_frame_names
from .plan import Job

CHUNK_FRAMES = 32


class ForgeWorker:
    """Runs jobs into the dataset folder `out`, keeping each pipeline loaded once it is used.

    threads: torch and OpenCV threads for this process (a Ray actor is one process per core;
        None leaves them as they are).
    """

    def __init__(self, out: str | Path, config: ForgeConfig, threads: int | None = 1):
        from ..process_setup import quiet_native_logging, use_cpu_threads

        quiet_native_logging()
        if threads is not None:
            use_cpu_threads(threads)
        self.out, self.config = Path(out), config
        self._pipelines: dict[str, Any] = {}

    def run(self, job: Job, digest: str) -> dict[str, Any]:
        """Make the job; returns its record ({"status": "done", "entries": [...], ...}) or, if it
        failed, {"status": "failed", "error", "message", "bug"}. Never raises for the job's sake."""
        start = time.perf_counter()
        try:
            entries = self.originals(job) if job.is_real else self.fake(job)
        except TalkingHeadError as exc:
            return failure(job, exc, bug=False)
        except Exception as exc:  # a bug in one job must not lose the others
            return failure(job, exc, bug=True)
        record = {"job": job.key, "status": "done", "hash": digest, "seconds": round(time.perf_counter() - start, 3),
                  "worker": os.getpid(), "entries": entries}  # fmt: skip
        path = self.out / record_file(job)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(record, indent=1) + "\n"
        write_atomically(path, lambda target: target.write_text(text))
        return record

    # -- the two kinds of job -----------------------------------------------------------------
    def fake(self, job: Job) -> list[dict[str, Any]]:
        pipeline = self.pipeline(job.method)
        options: dict[str, Any] = {"max_size": self.config.max_size}
        if job.real is not None:  # a pair: the real video's first frame, its own sound and frame rate
            image, speech = self.first_frame(job), str(job.real.path)
            options["fps"] = self.real_fps(job)
        else:
            image, speech = job.face.path, str(job.audio.path)
        result = pipeline(pipeline.inputs_class(image=str(image), audio=speech), seed=job.seed, **options)
        frames = self.encode(job, result.iter_chunks(CHUNK_FRAMES), fps=result.fps, audio=result.audio,
                             masks=True, metadata=result.provenance.format_tags() if result.provenance else None)  # fmt: skip
        motion = self.out / motion_file(job)
        motion.parent.mkdir(parents=True, exist_ok=True)
        result.motion.save(motion)
        provenance = result.provenance.to_dict() if result.provenance else None
        return self.entries(job, frames, result.fps, result.audio.duration, provenance, masks=True)

    def originals(self, job: Job) -> list[dict[str, Any]]:
        from ..io.audio import load_audio
        from ..io.video import probe_video, read_video

        info = probe_video(job.real.path)
        if not info.has_audio:
            raise InputError(f"{job.real.path}: the real video has no sound; its fakes need its speech")
        audio = load_audio(job.real.path)
        chunks = still_chunks(read_video(job.real.path, max_size=self.config.max_size))
        frames = self.encode(job, chunks, fps=info.fps, audio=audio, masks=False, metadata=None)
        return self.entries(job, frames, info.fps, audio.duration, None, masks=False)

    # -- files ---------------------------------------------------------------------------------
    def encode(self, job: Job, chunks, *, fps: float, audio, masks: bool, metadata) -> int:
        """Every compression (and the lossless masks) from one pass over the chunks; the number
        of frames."""
        from ..io.video import Encoding, VideoTarget, write_videos

        targets = [VideoTarget(self.out / video_file(job, c), encoding=Encoding(crf=CRF[c], preset=self.config.preset))
                   for c in self.config.compressions]  # fmt: skip
        if masks:
            targets.append(VideoTarget(self.out / mask_file(job), masks=True, encoding=Encoding(codec="ffv1")))
        for target in targets:
            target.path.parent.mkdir(parents=True, exist_ok=True)
        return write_videos(targets, chunks, fps=fps, audio=audio, metadata=metadata)

    def entries(self, job: Job, frames: int, fps: float, audio_seconds: float, provenance, *, masks: bool) -> list[dict[str, Any]]:
        """One metadata entry per compression, with the frames extracted for it."""
        count = self.config.frames_per_video
        indices = sorted({int(i) for i in np.linspace(0, frames - 1, count).round()}) if count else []
        mask_names = mask_frame_names(job, indices) if masks else []
        if indices and masks:
            self.extract(self.out / mask_file(job), indices, mask_names, gray=True)
        items = []
        for c in self.config.compressions:
            names = frame_names(job, c, indices)
            if indices:
                self.extract(self.out / video_file(job, c), indices, names, gray=False)
            items.append(entry(job, c, fps=fps, video_frames=frames, audio_seconds=audio_seconds,
                               frames=names, mask_frames=mask_names, provenance=provenance))  # fmt: skip
        return items

    def extract(self, video: Path, indices: list[int], names: list[str], *, gray: bool) -> None:
        """Save the frames at `indices` of the encoded `video` (what a detector sees) as PNG files
        `names`; written in a scratch folder, then moved into place as a whole."""
        from PIL import Image

        from ..io.video import read_video

        folder = self.out / Path(names[0]).parent
        scratch = work_folder(self.out) / f"{folder.name}-{os.getpid()}"
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        wanted = dict(zip(indices, names))
        for index, frame in enumerate(read_video(video)):
            if index in wanted:
                Image.fromarray(frame[..., 0] if gray else frame).save(scratch / Path(wanted[index]).name)
        if len(list(scratch.iterdir())) != len(indices):
            raise TalkingHeadError(f"{video}: decoded fewer frames than were written")
        shutil.rmtree(folder, ignore_errors=True)
        folder.parent.mkdir(parents=True, exist_ok=True)
        os.replace(scratch, folder)

    def first_frame(self, job: Job) -> Path:
        """The real video's first frame as a PNG (the photo its fakes start from), made once."""
        from PIL import Image

        from ..io.video import read_video

        path = self.out / first_frame_file(job)
        if not path.is_file():
            frame = next(iter(read_video(job.real.path, max_size=self.config.max_size)), None)
            if frame is None:
                raise InputError(f"{job.real.path}: the real video has no frames")
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(path, lambda target: Image.fromarray(frame).save(target, format="PNG"))
        return path

    def real_fps(self, job: Job) -> float:
        from ..io.video import probe_video

        return probe_video(job.real.path).fps

    # -- pipelines -----------------------------------------------------------------------------
    def pipeline(self, name: str):
        """The pipeline `name`, loaded on first use, then kept."""
        from .. import api

        if name not in self._pipelines:
            self._pipelines[name] = api.load_pipeline(name).warm_up()
        return self._pipelines[name]

    def close(self) -> None:
        for pipeline in self._pipelines.values():
            pipeline.close()
        self._pipelines.clear()


def still_chunks(frames: Iterator[np.ndarray]) -> Iterator[RenderedChunk]:
    """Decoded frames as RenderedChunks with empty masks (nothing in a real video is made)."""
    batch: list[np.ndarray] = []
    start = 0
    for frame in frames:
        batch.append(frame)
        if len(batch) == CHUNK_FRAMES:
            yield chunk_of(batch, start)
            start, batch = start + len(batch), []
    if batch:
        yield chunk_of(batch, start)


def chunk_of(frames: list[np.ndarray], start: int) -> RenderedChunk:
    stack = np.stack(frames)
    return RenderedChunk(frames=stack, masks=np.zeros(stack.shape[:3], np.uint8), start=start)


def failure(job: Job, exc: BaseException, *, bug: bool) -> dict[str, Any]:
    message = first_line(exc)
    record = {"job": job.key, "status": "failed", "error": type(exc).__name__, "message": message, "bug": bug}
    if bug:
        record["traceback"] = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return record
