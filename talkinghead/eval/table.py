"""The Markdown table of a bench: one row per pipeline (means over runs) and a "real video"
row with the range measured on real talking clips (reference_real.json)."""

from __future__ import annotations

# (results key, column header, number format, what it is)
COLUMNS = (
    ("identity_distance", "identity", "{:.3f}", "dlib face-descriptor distance to the source photo (lower = same person; < 0.6 same person)"),
    ("psnr", "PSNR dB", "{:.2f}", "aligned face crop vs the reference video (reconstruction rows only)"),
    ("ssim", "SSIM", "{:.3f}", "aligned face crop vs the reference video"),
    ("lmd", "LMD px", "{:.2f}", "mean 68-landmark distance to the reference, face scaled to 100 px between the outer eye corners"),
    ("lmd_mouth", "M-LMD px", "{:.2f}", "the same over the 20 mouth landmarks"),
    ("sync_r", "sync r", "{:.3f}", "best Pearson r of audio log-energy and mouth opening within +/- 0.2 s"),
    ("mouth_silent", "mouth silent", "{:.3f}", "mean mouth opening (inner-lip gap / eye-corner distance) where the VAD hears no speech"),
    ("mouth_std", "mouth std", "{:.3f}", "std of the mouth opening over frames"),
    ("pose_std_yaw", "yaw std", "{:.2f}", "head yaw std, degrees"),
    ("pose_std_pitch", "pitch std", "{:.2f}", "head pitch std, degrees"),
    ("pose_std_roll", "roll std", "{:.2f}", "head roll std, degrees"),
    ("pose_speed_mean", "pose speed", "{:.1f}", "mean absolute yaw/pitch/roll change, degrees per second"),
    ("pose_speed_speaking", "speed speaking", "{:.1f}", "the same while the VAD hears speech, degrees per second"),
    ("pose_speed_pauses", "speed pauses", "{:.1f}", "the same in pauses, degrees per second (empty: too few pause frames)"),
    ("pose_diversity", "diversity", "{:.2f}", "RMS difference of head-pose curves between seeds of one input, degrees"),
    ("real_range_distance", "off-real", "{:.2f}", "mean distance of the motion figures outside the real range, in range widths (0 = inside)"),
    ("blinks_per_min", "blinks/min", "{:.1f}", "blinks per minute"),
    ("jitter", "jitter", "{:.4f}", "mean landmark acceleration / eye-corner distance per frame^2"),
    ("background_change", "bg change", "{:.2f}", "mean grey-level change per frame outside the head (0-255)"),
    ("sharpness_ratio", "sharpness", "{:.2f}", "face sharpness relative to the source photo"),
    ("generate_fps", "gen fps", "{:.1f}", "frames generated (and encoded) per second"),
    ("seconds_per_audio_second", "s / audio s", "{:.2f}", "generation wall time per second of audio"),
)  # fmt: skip


def markdown_table(results: dict) -> str:
    """The table, then one line per column saying what it measures."""
    header = "| pipeline | " + " | ".join(c[1] for c in COLUMNS) + " |"
    lines = [header, "|" + " --- |" * (len(COLUMNS) + 1)]
    for name, means in results["pipelines"].items():
        lines.append(f"| {name} | " + " | ".join(_cell(means.get(k), f) for k, _, f, _ in COLUMNS) + " |")
    real = results.get("real_video", {})
    lines.append("| real video | " + " | ".join(_range_cell(real.get(k), f) for k, _, f, _ in COLUMNS) + " |")
    lines.append("")
    lines.append(f"Machine: {results.get('machine', '?')}. Seeds: {results['settings']['seeds']}. "
                 "Pipeline rows are means over inputs and seeds; the real-video row is the range over "
                 "the real clips in reference_real.json.")  # fmt: skip
    lines.append("")
    lines.extend(f"- **{header}**: {meaning}" for _, header, _, meaning in COLUMNS)
    return "\n".join(lines) + "\n"


def _cell(value, spec: str) -> str:
    return "-" if value is None else spec.format(value)


def _range_cell(bounds, spec: str) -> str:
    if not bounds:
        return "-"
    return f"{spec.format(bounds[0])} to {spec.format(bounds[1])}"
