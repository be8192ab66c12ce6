"""PNG plots of a bench (matplotlib, Agg backend: no display needed).

Each function writes one figure with labelled axes (units in brackets) and a legend.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .evaluate import FrameSeries


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only; never probe for a GUI
    import matplotlib.pyplot as plt

    return plt


def plot_mouth_vs_audio(series: FrameSeries, path: str | Path, title: str) -> None:
    """Mouth opening (left axis) and the audio's log-energy (right axis) against time, with
    the frames the voice-activity detector calls speech shaded."""
    plt = _pyplot()
    times = np.arange(len(series.mouth)) / series.fps
    fig, ax = plt.subplots(figsize=(10, 3.6), dpi=110)
    mouth_line = ax.plot(times, series.mouth, color="tab:red", lw=1.4, label="mouth opening (dlib)")
    ax.set_xlabel("time [s]")
    ax.set_ylabel("mouth opening [inner-lip gap / eye-corner distance]")
    handles = list(mouth_line)
    if series.energy is not None:
        right = ax.twinx()
        handles += right.plot(times, series.energy, color="tab:blue", lw=1.0, alpha=0.7, label="audio log-energy")
        right.set_ylabel("audio log-energy [dBFS]")
        right.set_ylim(max(-80.0, float(np.min(series.energy)) - 3), float(np.max(series.energy)) + 3)
    if series.voiced is not None and series.voiced.any():
        ax.fill_between(times, 0, 1, where=series.voiced, transform=ax.get_xaxis_transform(),
                        color="tab:green", alpha=0.12, label="speech (VAD)")  # fmt: skip
        handles.append(plt.Rectangle((0, 0), 1, 1, color="tab:green", alpha=0.12, label="speech (VAD)"))
    ax.legend(handles=handles, loc="upper right", fontsize=8)
    ax.set_title(title)
    _save(fig, path)


def plot_pose_curves(curves: dict[str, FrameSeries], path: str | Path, title: str) -> None:
    """Yaw, pitch and roll (degrees, each curve's mean removed) against time, one panel per
    angle and one line per video."""
    plt = _pyplot()
    fig, axes = plt.subplots(3, 1, figsize=(10, 7), dpi=110, sharex=True)
    for label, series in curves.items():
        times = np.arange(len(series.poses)) / series.fps
        centred = series.poses - np.nanmean(series.poses, axis=0)
        style = {"color": "black", "lw": 1.6} if label == "real video" else {"lw": 1.1}
        for axis, ax in enumerate(axes):
            ax.plot(times, centred[:, axis], label=label, **style)
    for ax, name in zip(axes, ("yaw", "pitch", "roll")):
        ax.set_ylabel(f"{name} [deg]")
        ax.grid(alpha=0.3)
    axes[0].legend(loc="upper right", fontsize=8)
    axes[0].set_title(f"{title} (dlib, mean removed)")
    axes[-1].set_xlabel("time [s]")
    _save(fig, path)


# (key, label with unit) of the bar panels.
BAR_METRICS = (
    ("identity_distance", "identity distance [dlib, lower = closer]"),
    ("sync_r", "lip sync r [-1..1]"),
    ("mouth_silent", "mouth opening in silence [ratio]"),
    ("pose_std_yaw", "yaw std [deg]"),
    ("pose_std_pitch", "pitch std [deg]"),
    ("pose_speed_mean", "pose speed [deg/s]"),
    ("blinks_per_min", "blinks [per minute]"),
    ("jitter", "jitter [eye dist / frame^2]"),
    ("background_change", "background change [grey levels]"),
)


def plot_bars(results: dict, path: str | Path) -> None:
    """One panel per metric: a bar per pipeline (mean over runs) and the real videos' range
    as a shaded band."""
    plt = _pyplot()
    names = list(results["pipelines"])
    fig, axes = plt.subplots(3, 3, figsize=(12, 9), dpi=110)
    real = results.get("real_video", {})
    for ax, (key, label) in zip(axes.ravel(), BAR_METRICS):
        values = [results["pipelines"][n].get(key) for n in names]
        heights = [np.nan if v is None else v for v in values]
        if key in real:
            low, high = real[key]
            ax.axhspan(low, high, color="tab:green", alpha=0.25, zorder=0, label="real videos (range)")
        ax.bar(names, heights, width=0.5, color="tab:blue", edgecolor="black", zorder=2, label="pipeline mean")
        ax.set_title(label, fontsize=9)
        ax.set_ylabel(label.split(" [")[-1].rstrip("]"), fontsize=8)
        ax.legend(fontsize=7, loc="best")
    fig.suptitle("bench: pipelines vs real talking videos")
    _save(fig, path)


def _save(fig, path: str | Path) -> None:
    fig.tight_layout()
    fig.savefig(path)
    import matplotlib.pyplot as plt

    plt.close(fig)
