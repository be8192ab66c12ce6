"""Landmark layouts: which landmark index is which part of the face, per backend.

Everything downstream (expression bases, renderer, motion models) addresses landmarks through a
layout, so a backend with another topology (68 iBUG points, 478 FaceMesh points) works unchanged.
Index lists are ordered: lids and lips run from one corner to the other, upper and lower lists
pair up index by index.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LandmarkLayout:
    name: str
    num_points: int
    # Eyes, the person's left/right. Upper and lower lids run corner to corner, same length.
    left_eye_upper: tuple[int, ...]
    left_eye_lower: tuple[int, ...]
    right_eye_upper: tuple[int, ...]
    right_eye_lower: tuple[int, ...]
    left_brow: tuple[int, ...]
    right_brow: tuple[int, ...]
    # Lips, from the person's right mouth corner to the left one.
    outer_lip_upper: tuple[int, ...]
    outer_lip_lower: tuple[int, ...]
    inner_lip_upper: tuple[int, ...]
    inner_lip_lower: tuple[int, ...]
    face_oval: tuple[int, ...]
    nose_tip: int
    chin: int
    # Points that move with the eyeball, not with the lids (irises), if the layout has them.
    irises: tuple[int, ...] = ()

    @property
    def left_eye_corners(self) -> tuple[int, int]:
        return self.left_eye_upper[0], self.left_eye_upper[-1]

    @property
    def right_eye_corners(self) -> tuple[int, int]:
        return self.right_eye_upper[0], self.right_eye_upper[-1]

    @property
    def outer_eye_corners(self) -> tuple[int, int]:
        """(right eye's outer corner, left eye's outer corner)."""
        return self.right_eye_upper[0], self.left_eye_upper[-1]

    def lips(self) -> tuple[int, ...]:
        return tuple(
            sorted(set(self.outer_lip_upper + self.outer_lip_lower + self.inner_lip_upper + self.inner_lip_lower))
        )


# MediaPipe FaceMesh with iris refinement (478 points). Index sets read off its topology
# (face_mesh_connections); lists ordered from the person's right to left.
MEDIAPIPE_478 = LandmarkLayout(
    name="mediapipe478",
    num_points=478,
    right_eye_upper=(33, 246, 161, 160, 159, 158, 157, 173, 133),
    right_eye_lower=(33, 7, 163, 144, 145, 153, 154, 155, 133),
    left_eye_upper=(362, 398, 384, 385, 386, 387, 388, 466, 263),
    left_eye_lower=(362, 382, 381, 380, 374, 373, 390, 249, 263),
    right_brow=(46, 53, 52, 65, 55, 70, 63, 105, 66, 107),
    left_brow=(336, 296, 334, 293, 300, 285, 295, 282, 283, 276),
    outer_lip_upper=(61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291),
    outer_lip_lower=(61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291),
    inner_lip_upper=(78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308),
    inner_lip_lower=(78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308),
    face_oval=(
        10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
        152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
    ),
    nose_tip=1,
    chin=152,
    irises=tuple(range(468, 478)),
)

# The 68-point iBUG layout used by face-alignment and dlib (0-based).
IBUG_68 = LandmarkLayout(
    name="ibug68",
    num_points=68,
    right_eye_upper=(36, 37, 38, 39),
    right_eye_lower=(36, 41, 40, 39),
    left_eye_upper=(42, 43, 44, 45),
    left_eye_lower=(42, 47, 46, 45),
    right_brow=(17, 18, 19, 20, 21),
    left_brow=(22, 23, 24, 25, 26),
    outer_lip_upper=(48, 49, 50, 51, 52, 53, 54),
    outer_lip_lower=(48, 59, 58, 57, 56, 55, 54),
    inner_lip_upper=(60, 61, 62, 63, 64),
    inner_lip_lower=(60, 67, 66, 65, 64),
    face_oval=tuple(range(0, 17)) + (26, 25, 24, 19, 18, 17),
    nose_tip=30,
    chin=8,
)

LAYOUTS = {layout.name: layout for layout in (MEDIAPIPE_478, IBUG_68)}


def get_layout(name: str) -> LandmarkLayout:
    try:
        return LAYOUTS[name]
    except KeyError:
        raise KeyError(f"unknown landmark layout {name!r}; known: {', '.join(LAYOUTS)}") from None
