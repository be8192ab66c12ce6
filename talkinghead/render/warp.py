"""The training-free warp renderer.

Per frame: source landmarks -> target landmarks (expression and eyelids in the canonical face
frame, then head rotation about a pivot behind the face, scale and translation, projected
orthographically) -> forward flow on a coarse grid -> backward flow (Newton inversion) ->
full-resolution warp of the photo -> painted mouth interior and eyelids where the photo has no
pixels for them. Frames are rendered at the photo's own resolution, so there are no crop seams.
Geometry and flow run batched in torch (CPU or GPU); the full-resolution warp uses cv2.remap on
CPU (measured faster there, see benchmarks/bench_generate.py) and grid_sample elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from ..facemodel.frame import FaceFrame, canonical_shape
from ..face.layout import LandmarkLayout, get_layout
from ..face.rotation import rotation_matrix
from ..errors import InputError
from ..facemodel.basis import ExpressionBasis
from ..facemodel.face_model import FaceModel
from ..facemodel.geometric_basis import inner_lip_gap
from ..types import MotionSequence, RenderedChunk, SourceFace
from .base import Renderer
from .eyelids import LidStyle, paint_eyelid
from .flow import FlowGrid, FlowGridConfig, build_flow_grid, forward_field, invert_flow
from .mouth import MouthStyle, paint_mouth

# The warp stretches whatever the photo shows between the lips; teeth of a smiling photo still
# look right stretched 2x, not 4x. The painted cavity fades in between STRETCH_START and
# STRETCH_FULL times the photo's opening, and only for openings wider than MIN_EXTRA_GAP
# (canonical units) beyond the photo's.
STRETCH_START = 2.0
STRETCH_FULL = 3.5
CV2_INTERPOLATION = {"bilinear": cv2.INTER_LINEAR, "bicubic": cv2.INTER_CUBIC}
MIN_EXTRA_GAP = 0.03


@dataclass(frozen=True)
class WarpRendererConfig:
    flow: FlowGridConfig = field(default_factory=FlowGridConfig)
    newton_iterations: int = 5
    """Newton steps of the flow inversion; cells still unsolved after them (residual over half
    a pixel, only inside wide-stretched mouths) are filled from their neighbours."""
    paint_mouth: bool = True
    paint_eyelids: bool = True
    interpolation: str = "bicubic"
    """"bicubic" or "bilinear" resampling of the photo. Bilinear is about 3x faster but, at
    sub-pixel shifts, blurs the face (measured: face sharpness 0.48 of the photo's vs 0.76 for
    bicubic on a grainy portrait)."""
    warp_backend: str = "auto"
    """"cv2" (cv2.remap), "torch" (grid_sample), or "auto": cv2 on CPU, torch on GPU."""

    def __post_init__(self) -> None:
        if self.warp_backend not in ("auto", "cv2", "torch"):
            raise InputError(f"warp_backend must be 'auto', 'cv2' or 'torch', not {self.warp_backend!r}")
        if self.interpolation not in CV2_INTERPOLATION:
            raise InputError(f"interpolation must be one of {', '.join(sorted(CV2_INTERPOLATION))}, not {self.interpolation!r}")


@dataclass
class PreparedFace:
    """Everything the renderer derives from one photo, computed once."""

    source: SourceFace
    layout: LandmarkLayout
    frame: FaceFrame
    canonical: torch.Tensor  # (N, 3) float64 canonical landmarks
    expression_deltas: torch.Tensor  # (E, N, 3)
    eyelid_deltas: torch.Tensor  # (2, N, 3)
    control: torch.Tensor  # (K,) long: landmarks that drive the flow
    grid: FlowGrid
    source_gap: float  # inner-lip gap of the photo, canonical units
    mouth_style: MouthStyle
    lid_style: LidStyle
    base_map: np.ndarray  # (H, W, 2) float32 pixel coordinates, for cv2.remap
    image_tensor: torch.Tensor | None  # (1, 3, H, W) float32 in [0, 255] for grid_sample


def mouth_paint_strength(target_gap: float, source_gap: float) -> float:
    """0..1: how much of the target mouth opening must be painted rather than stretched."""
    stretch = target_gap / max(source_gap, 1e-3)
    need = np.clip((stretch - STRETCH_START) / (STRETCH_FULL - STRETCH_START), 0.0, 1.0)
    return float(need * np.clip((target_gap - source_gap) / MIN_EXTRA_GAP, 0.0, 1.0))


class WarpRenderer(Renderer):
    config_class = WarpRendererConfig

    def __init__(self, config: WarpRendererConfig | None, face_model: FaceModel, device: str = "cpu"):
        super().__init__(config, face_model, device)
        self.to(device)

    def to(self, device: str) -> "WarpRenderer":
        super().to(device)
        self.torch_device = torch.device(device)
        backend = self.config.warp_backend
        self.use_cv2 = backend == "cv2" or (backend == "auto" and self.torch_device.type == "cpu")
        return self

    @property
    def basis(self) -> ExpressionBasis:
        return self.face_model.basis

    def _float64(self, array) -> torch.Tensor:
        return torch.as_tensor(np.asarray(array), dtype=torch.float64, device=self.torch_device)

    def prepare(self, source: SourceFace) -> PreparedFace:
        layout = get_layout(source.layout)
        frame, canonical = canonical_shape(source.landmarks, layout)
        control = np.setdiff1d(np.arange(layout.num_points), layout.irises)
        chin_y = float(source.landmarks[layout.chin, 1])
        grid = build_flow_grid(source.landmarks[control, :2].astype(np.float64), source.size, frame.scale, chin_y, self.config.flow)
        h, w = source.size
        base = np.stack(np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32)), axis=-1)
        image_tensor = None
        if not self.use_cv2:
            image_tensor = torch.from_numpy(source.image).permute(2, 0, 1)[None].float().to(self.torch_device)
        as_tensor = self._float64
        return PreparedFace(
            source=source,
            layout=layout,
            frame=frame,
            canonical=as_tensor(canonical),
            expression_deltas=as_tensor(self.basis.deltas(canonical, layout)),
            eyelid_deltas=as_tensor(self.basis.eyelid_deltas(canonical, layout)),
            control=torch.as_tensor(control, device=self.torch_device),
            grid=grid.to(self.torch_device),
            source_gap=inner_lip_gap(canonical, layout),
            mouth_style=MouthStyle.from_source(source.image, source.landmarks, layout),
            lid_style=LidStyle.from_source(source.image, source.landmarks, layout, up=-frame.rotation[:2, 1]),
            base_map=base,
            image_tensor=image_tensor,
        )

    def canonical_targets(self, prep: PreparedFace, motion: MotionSequence, eyelids: bool = True) -> torch.Tensor:
        """(B, N, 3) target landmarks in canonical units, before head pose."""
        if tuple(motion.expression_names) != self.expression_names:
            raise ValueError(f"motion has expression coefficients {motion.expression_names}, this renderer's basis has {self.expression_names}")
        q = prep.canonical + torch.einsum("be,enk->bnk", self._float64(motion.expression), prep.expression_deltas)
        if eyelids:
            lids = self._float64(motion.eyelids).clamp(0, 1)
            q = q + torch.einsum("bs,snk->bnk", lids, prep.eyelid_deltas)
        return q

    def posed(self, prep: PreparedFace, motion: MotionSequence, q: torch.Tensor) -> torch.Tensor:
        """(B, N, 3) canonical targets -> (B, N, 3) pixel coordinates after head pose."""
        as_tensor = self._float64
        rotation = rotation_matrix(as_tensor(motion.rotation))
        pivot = as_tensor(self.face_model.pivot)
        turned = (q - pivot) @ rotation.transpose(1, 2) + pivot
        turned = turned * as_tensor(motion.scale)[:, None, None]
        frame = prep.frame
        pixels = turned * frame.scale @ as_tensor(frame.rotation).T + as_tensor(frame.center)
        shift = as_tensor(motion.translation) * frame.scale
        return pixels + torch.nn.functional.pad(shift, (0, 1))[:, None, :]

    def render(self, prep: PreparedFace, motion: MotionSequence, start: int = 0) -> RenderedChunk:
        q = self.canonical_targets(prep, motion)
        targets = self.posed(prep, motion, q)
        source_xy = self._float64(prep.source.landmarks[:, :2])
        displacement = (targets[..., :2] - source_xy)[:, prep.control].float()
        backward = invert_flow(forward_field(prep.grid, displacement), prep.grid, self.config.newton_iterations)
        frames, masks = self._warp(prep, backward)
        if self.config.paint_mouth or self.config.paint_eyelids:
            opened = self.posed(prep, motion, self.canonical_targets(prep, motion, eyelids=False))
            self._paint(prep, motion, q, targets, opened, frames, masks)
        masks8 = (np.clip(masks, 0, 1) * 255 + 0.5).astype(np.uint8)
        return RenderedChunk(frames=frames, masks=masks8, start=start)

    def _warp(self, prep: PreparedFace, backward: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """backward: (B, 2, h, w) pixels -> frames (B, H, W, 3) uint8 and masks (B, H, W) float32
        in [0, 1] (1 = moved by a pixel or more)."""
        h, w = prep.source.size
        if self.use_cv2:
            interpolation = CV2_INTERPOLATION[self.config.interpolation]
            coarse = backward.permute(0, 2, 3, 1).contiguous().cpu().numpy()
            frames = np.empty((len(coarse), h, w, 3), np.uint8)
            masks = np.empty((len(coarse), h, w), np.float32)
            for i, flow in enumerate(coarse):
                full = cv2.resize(flow, (w, h), interpolation=cv2.INTER_LINEAR)
                full += prep.base_map
                frames[i] = cv2.remap(prep.source.image, full, None, interpolation, borderMode=cv2.BORDER_REPLICATE)
                masks[i] = cv2.resize(np.minimum(np.linalg.norm(flow, axis=2), 1.0), (w, h), interpolation=cv2.INTER_LINEAR)
            return frames, masks
        full = F.interpolate(backward, size=(h, w), mode="bilinear", align_corners=False)
        base = torch.as_tensor(prep.base_map, device=self.torch_device)
        coords = base[None] + full.permute(0, 2, 3, 1)
        scale = torch.tensor([2.0 / w, 2.0 / h], device=self.torch_device)
        grid = (coords + 0.5) * scale - 1.0
        image = prep.image_tensor.expand(len(full), -1, -1, -1)
        warped = F.grid_sample(image, grid, mode=self.config.interpolation, padding_mode="border", align_corners=False)
        frames = warped.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
        masks = full.norm(dim=1).clamp(max=1.0).cpu().numpy()
        return frames, masks

    def _paint(self, prep, motion, q, targets, opened, frames, masks) -> None:
        """Paint mouth interiors and eyelids into the warped frames, in place."""
        layout, cfg = prep.layout, self.config
        q_np, xy, open_xy = q.cpu().numpy(), targets[..., :2].cpu().numpy(), opened[..., :2].cpu().numpy()
        inner_up, inner_low = list(layout.inner_lip_upper), list(layout.inner_lip_lower)
        for i in range(len(frames)):
            if cfg.paint_mouth:
                strength = mouth_paint_strength(inner_lip_gap(q_np[i], layout), prep.source_gap)
                paint_mouth(frames[i], masks[i], xy[i, inner_up], xy[i, inner_low], strength, prep.mouth_style)
            if cfg.paint_eyelids:
                self._paint_eyes(prep, motion.eyelids[i], xy[i], open_xy[i], frames[i], masks[i])

    def _paint_eyes(self, prep, closure, xy, open_xy, frame, mask) -> None:
        layout, style = prep.layout, prep.lid_style
        eyes = ((layout.left_eye_upper, layout.left_eye_lower), (layout.right_eye_upper, layout.right_eye_lower))
        for side, (upper, lower) in enumerate(eyes):
            outline = np.concatenate([open_xy[list(upper)], open_xy[list(lower)][::-1]])
            paint_eyelid(frame, mask, outline, xy[list(upper)], xy[list(lower)], float(closure[side]), style.skin[side], style.lash[side])
