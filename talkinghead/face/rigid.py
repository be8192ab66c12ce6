"""Rigid (similarity) alignment of landmark sets, batched over frames.

Used by video tracking to separate head pose (rotation, translation, scale) from expression:
each frame's landmarks are aligned to the clip's mean shape using the points that move least
relative to the skull (chosen from the data, so it works for any landmark layout).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class SimilarityFit:
    """points ~= scale * reference @ rotation.T + translation, per frame.

    rotation: (T, 3, 3) proper rotations; scale: (T,); translation: (T, 3).
    """

    rotation: np.ndarray
    scale: np.ndarray
    translation: np.ndarray

    def to_reference(self, points: np.ndarray) -> np.ndarray:
        """(T, N, 3) points -> (T, N, 3) in the reference's frame and units (pose removed)."""
        return np.einsum("tnk,tkj->tnj", points - self.translation[:, None], self.rotation) / self.scale[:, None, None]


def fit_similarity(points: np.ndarray, reference: np.ndarray, weights: np.ndarray) -> SimilarityFit:
    """Weighted least-squares similarity transform (Umeyama) from `reference` to each frame.

    points: (T, N, 3) per-frame landmarks; reference: (N, 3); weights: (N,) >= 0, not all 0.
    """
    w = weights / weights.sum()
    mu_p = np.einsum("n,tnk->tk", w, points)
    mu_r = w @ reference
    p = points - mu_p[:, None]
    r = reference - mu_r
    cov = np.einsum("tni,n,nj->tij", p, w, r)
    u, s, vt = np.linalg.svd(cov)
    d = np.ones((len(points), 3))
    d[:, 2] = np.sign(np.linalg.det(u @ vt))  # a reflection is never a head pose
    rotation = (u * d[:, None, :]) @ vt
    scale = (s * d).sum(axis=1) / (w @ (r**2).sum(axis=1))
    translation = mu_p - scale[:, None] * np.einsum("tij,j->ti", rotation, mu_r)
    return SimilarityFit(rotation, scale, translation)


@dataclass(frozen=True)
class StableFit:
    """A clip aligned on its steadiest points.

    fit: the per-frame similarity transforms. mean_shape: (N, 3) the aligned frames' mean (an
    improved reference). rigid: (N,) bool, the points the fit used.
    """

    fit: SimilarityFit
    mean_shape: np.ndarray
    rigid: np.ndarray


def stable_point_fit(
    points: np.ndarray, reference: np.ndarray, candidates: np.ndarray, keep: float = 0.4, rounds: int = 2
) -> StableFit:
    """Align every frame to `reference`, using the `keep` share of `candidates` ((K,) indices)
    that deform least over the clip."""
    weights = np.zeros(len(reference))
    weights[candidates] = 1.0
    for _ in range(rounds):
        fit = fit_similarity(points, reference, weights)
        aligned = fit.to_reference(points)
        reference = aligned.mean(axis=0)
        spread = np.linalg.norm(aligned - reference, axis=2).std(axis=0)
        limit = np.quantile(spread[candidates], keep)
        weights = np.zeros(len(reference))
        weights[candidates[spread[candidates] <= limit]] = 1.0
    fit = fit_similarity(points, reference, weights)
    return StableFit(fit, fit.to_reference(points).mean(axis=0), weights > 0)


def perspective_rotations(points: np.ndarray, model: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    """(T, 3, 3) rotations of a rigid `model` that put it on each frame's 2-D `points` through
    a pinhole camera (cv2.solvePnP; focal length = the image width, centre = the image's).

    Unlike fit_similarity this uses no per-frame depth: FaceMesh predicts each frame's z anew,
    and that prediction jitters and leaks into yaw and pitch, while its x, y are what the
    network places best. The model's axes are the points' (x right, y down, z away from the
    camera), so a frame posed like the model gives about the identity.

    points: (T, K, 2) pixels; model: (K, 3) any units (only its shape matters).
    """
    height, width = image_size
    camera = np.array([[width, 0, width / 2], [0, width, height / 2], [0, 0, 1]], dtype=np.float64)
    model = np.ascontiguousarray(model - model.mean(axis=0), dtype=np.float64)
    out = np.empty((len(points), 3, 3))
    guess = None
    for t, frame in enumerate(np.ascontiguousarray(points, dtype=np.float64)):
        if guess is None:
            _, rvec, tvec = cv2.solvePnP(model, frame, camera, None, flags=cv2.SOLVEPNP_EPNP)
            guess = (rvec, tvec)
        # Starting from the previous frame's answer keeps a sequence on one branch of the fit.
        _, rvec, tvec = cv2.solvePnP(model, frame, camera, None, guess[0].copy(), guess[1].copy(),
                                     useExtrinsicGuess=True, flags=cv2.SOLVEPNP_ITERATIVE)  # fmt: skip
        guess = (rvec, tvec)
        out[t] = cv2.Rodrigues(rvec)[0]
    return out
