"""The `font` renderer: FONT's flow-guided, occlusion-aware generator behind the renderer
interface, so any pipeline that makes basis-coefficient motion can use it (--renderer font).

Per chunk: target keypoints from the motion (the warp renderer's geometry: basis, eyelids, head
pose) -> into the source's face crop -> mesh flow -> dense motion and occlusion -> generator ->
the crop pasted back into the photo with a feathered edge. Outside the crop the photo is
untouched; the mesh flow tapers to zero at the crop's edge, so the paste is seamless.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
import torch

from ...face.layout import LandmarkLayout, get_layout
from ...facemodel.face_model import FaceModel
from ...types import MotionSequence, RenderedChunk, SourceFace
from ..base import Renderer
from ..flow import FlowGridConfig
from ..warp import PreparedFace, WarpRenderer
from .crop import CropConfig, FaceCrop
from .generator import FontGenerator, GeneratorOutput, SourceFeatures
from .mesh_flow import MeshFlow
from .sketch import draw_sketch


@dataclass(frozen=True)
class FontRendererConfig:
    checkpoint: str | None = None
    """Folder of trained FONT renderer weights; None = the shipped checkpoints/font_renderer."""
    crop: CropConfig = field(default_factory=CropConfig)
    flow: FlowGridConfig = field(default_factory=FlowGridConfig)
    newton_iterations: int = 5


@dataclass
class PreparedFontFace:
    geometry: PreparedFace
    layout: LandmarkLayout
    crop: FaceCrop
    mesh: MeshFlow
    features: SourceFeatures
    paste_weight: np.ndarray  # (h, w, 1) float32 over `box`
    box: tuple[slice, slice]


def to_unit(images: np.ndarray) -> torch.Tensor:
    """(B, S, S, 3) uint8 -> (B, 3, S, S) float32 in [-0.5, 0.5]."""
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 255.0 - 0.5


class FontRenderer(Renderer):
    config_class = FontRendererConfig
    cli_threads = None

    def __init__(self, config: FontRendererConfig | None, face_model: FaceModel, device: str = "cpu"):
        super().__init__(config, face_model, device)
        self.geometry = WarpRenderer(None, face_model, device)
        self.generator = FontGenerator.load(self.config.checkpoint, device=device)

    def to(self, device: str) -> "FontRenderer":
        super().to(device)
        if hasattr(self, "generator"):
            self.geometry.to(device)
            self.generator.to(device)
        return self

    @torch.inference_mode()
    def prepare(self, source: SourceFace) -> PreparedFontFace:
        cfg, size = self.config, self.generator.config.crop_size
        layout = get_layout(source.layout)
        crop = FaceCrop.around(source.landmarks, source.layout, cfg.crop)
        crop = FaceCrop(crop.origin, crop.side, size)
        mesh = MeshFlow(crop.to_crop(source.landmarks), layout, size, cfg.flow, cfg.newton_iterations).to(self.device)
        features = self.generator.encode(to_unit(crop.cut(source.image)[None]).to(self.device))
        weight, box = crop.paste_weight(source.size, cfg.crop.feather)
        return PreparedFontFace(self.geometry.prepare(source), layout, crop, mesh, features, weight, box)

    @torch.inference_mode()
    def render(self, prep: PreparedFontFace, motion: MotionSequence, start: int = 0) -> RenderedChunk:
        geometry = self.geometry
        targets = geometry.posed(prep.geometry, motion, geometry.canonical_targets(prep.geometry, motion))
        out = self.crop_frames(prep, prep.crop.to_crop(targets[..., :2].cpu().numpy()))
        frames, masks = self._compose(prep, out)
        return RenderedChunk(frames=frames, masks=masks, start=start)

    def crop_frames(self, prep: PreparedFontFace, crop_xy: np.ndarray) -> GeneratorOutput:
        """crop_xy: (B, N, 2) target keypoints in crop pixels -> the generator's output."""
        size = self.generator.config.crop_size
        mesh = prep.mesh.backward(torch.as_tensor(crop_xy, dtype=torch.float32, device=self.device))
        quarter = torch.from_numpy(draw_sketch(crop_xy, prep.layout, size, size // 4)).to(self.device)
        half = torch.from_numpy(draw_sketch(crop_xy, prep.layout, size, size // 2)).to(self.device)
        return self.generator(prep.features.expand(len(crop_xy)), mesh, quarter, half)

    def _compose(self, prep: PreparedFontFace, out: GeneratorOutput) -> tuple[np.ndarray, np.ndarray]:
        """The generator's flow, blend and painted pixels applied to the photo itself, at the
        photo's resolution, so a photo sharper than the crop stays sharp where it is only moved.
        -> frames (B, H, W, 3) uint8, masks (B, H, W) uint8."""
        photo = prep.geometry.source.image
        rows, cols = prep.box
        # Per crop pixel: the flow in photo pixels, the blend and the painted colour (0..255).
        fields = torch.cat([out.flow_full / prep.crop.zoom, out.blend, (out.painted + 0.5) * 255.0], dim=1)
        fields = fields.permute(0, 2, 3, 1).contiguous().cpu().numpy()
        ys, xs = np.mgrid[rows, cols].astype(np.float32)
        weight, base = prep.paste_weight, photo[rows, cols].astype(np.float32)
        frames = np.repeat(photo[None], len(fields), axis=0)
        masks = np.zeros(frames.shape[:3], np.uint8)
        for i, field in enumerate(fields):
            f = prep.crop.uncut(field, prep.box)
            moved = cv2.remap(photo, xs + f[..., 0], ys + f[..., 1], cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
            blend = np.clip(f[..., 2:3], 0, 1)
            pixels = moved.astype(np.float32) * (1 - blend) + f[..., 3:] * blend
            frames[i, rows, cols] = np.clip(base + (pixels - base) * weight, 0, 255).round().astype(np.uint8)
            change = np.maximum(blend[..., 0], np.minimum(np.hypot(f[..., 0], f[..., 1]), 1.0)) * weight[..., 0]
            masks[i, rows, cols] = (np.clip(change, 0, 1) * 255 + 0.5).astype(np.uint8)
        return frames, masks
