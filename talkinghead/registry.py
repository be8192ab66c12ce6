"""Name -> class registries for pipelines, face backends, expression bases and renderers.

Built-in entries are given as "module:attribute" strings and imported on first use, so that
importing talkinghead stays light (no mediapipe or torch import until a component is needed).
Third-party code registers classes with the `register` decorator.
"""

from __future__ import annotations

import importlib
from typing import Callable, Generic, TypeVar

from .errors import UnknownNameError

T = TypeVar("T")


class Registry(Generic[T]):
    """A mapping from names to classes of one kind (e.g. "pipeline")."""

    def __init__(self, kind: str, builtins: dict[str, str] | None = None):
        self.kind = kind
        self._lazy: dict[str, str] = dict(builtins or {})
        self._loaded: dict[str, type[T]] = {}

    def register(self, name: str) -> Callable[[type[T]], type[T]]:
        """Class decorator: `@PIPELINES.register("mine")`."""

        def add(cls: type[T]) -> type[T]:
            self._loaded[name] = cls
            self._lazy.pop(name, None)
            return cls

        return add

    def names(self) -> list[str]:
        return sorted(set(self._lazy) | set(self._loaded))

    def get(self, name: str) -> type[T]:
        if name in self._loaded:
            return self._loaded[name]
        if name not in self._lazy:
            known = ", ".join(self.names()) or "none"
            raise UnknownNameError(f"unknown {self.kind} {name!r}; known: {known}")
        module_name, attr = self._lazy[name].split(":")
        cls = getattr(importlib.import_module(module_name), attr)
        self._loaded[name] = cls
        return cls

    def __contains__(self, name: str) -> bool:
        return name in self._lazy or name in self._loaded


PIPELINES: Registry = Registry(
    "pipeline",
    {
        "baseline": "talkinghead.pipelines.baseline:BaselinePipeline",
        "osm": "talkinghead.pipelines.osm:OSMPipeline",
        "font": "talkinghead.pipelines.font:FontPipeline",
        "opt": "talkinghead.pipelines.opt:OPTPipeline",
        "mfr": "talkinghead.pipelines.mfr:MFRPipeline",
    },
)
FACE_BACKENDS: Registry = Registry(
    "face backend",
    {
        "mediapipe": "talkinghead.face.mediapipe_backend:MediaPipeBackend",
        "face_alignment": "talkinghead.face.face_alignment_backend:FaceAlignmentBackend",
    },
)
EXPRESSION_BASES: Registry = Registry(
    "expression basis",
    {
        "geometric": "talkinghead.facemodel.geometric_basis:GeometricBasis",
        "learned": "talkinghead.facemodel.learned_basis:LearnedBasis",
    },
)
RENDERERS: Registry = Registry(
    "renderer",
    {"warp": "talkinghead.render.warp:WarpRenderer", "font": "talkinghead.render.font.renderer:FontRenderer"},
)

DEFAULT_PIPELINE = "osm"
DEFAULT_RENDERER = "warp"
