"""`talkinghead train MODEL --videos DIR --out DIR`: the training recipes on the command line.

    talkinghead train expression-basis --videos DIR --out checkpoints/expression_pca
    talkinghead train audio2exp --videos DIR --out checkpoints/audio2exp [--basis DIR] [--device cuda]
    talkinghead train osm --videos DIR --out checkpoints/osm [--device cuda]
    talkinghead train articulation --videos DIR --out checkpoints/articulation [--hold-out NAME ...]
    talkinghead train audio2exp-v2 --videos DIR --out checkpoints/audio2exp_v2 [--articulation DIR] [--hold-out NAME ...]
    talkinghead train mfr --from-monologues DIR --out checkpoints/mfr [--hold-out NAME ...]   (constructed listeners)
    talkinghead train mfr --pairs DIR --out DIR                          (real pairs in the ViCo layout)
    talkinghead train font-renderer --videos DIR --out checkpoints/font_renderer [--hold-out NAME ...] [--minutes 90]
    talkinghead train font-pose --videos DIR --out checkpoints/font_pose [--hold-out NAME ...] [--steps N]
    talkinghead train font-keypoints --videos DIR --out checkpoints/font_keypoints [--hold-out NAME ...] [--steps N]
    torchrun --nproc_per_node N -m talkinghead train osm ...   (data-parallel, see distributed.py)

Each video is tracked once; tracks are cached in DIR/.talkinghead-cache (or --cache).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

from ..info import machine_summary


def add_parser(commands) -> None:
    p = commands.add_parser("train", help="train a model on a folder of talking videos (see checkpoints/*/CARD.md)")
    models = p.add_subparsers(dest="model", required=True)
    for name, text in (
        ("expression-basis", "the PCA expression basis"),
        ("audio2exp", "the audio-to-expression model"),
        ("osm", "OSM-Net's motion space and audio-to-motion model"),
        ("articulation", "the articulation table (phone -> mouth shape, CPU, minutes)"),
        ("audio2exp-v2", "audio2exp v2, the gain of the content mouth from the mel stream (--mouth audio2exp-v2; CPU, a minute)"),
    ):
        m = models.add_parser(name, help=f"learn {text}")
        m.add_argument("--videos", required=True, help="folder of talking videos with their own audio (mp4, mov, ...)")
        m.add_argument("--out", required=True, help="checkpoint folder to write (config.json, model.safetensors, CARD.md)")
        m.add_argument("--cache", default=None, help="where to cache face tracks (default: VIDEOS/.talkinghead-cache)")
    for name, config in (("audio2exp", "Audio2ExpTrainConfig"), ("osm", "OSMTrainConfig"), ("audio2exp-v2", "Audio2ExpV2TrainConfig")):
        m = models.choices[name]
        m.add_argument("--steps", type=int, default=None, help=f"optimisation steps (default from {config})")
        m.add_argument("--seed", type=int, default=0)
        m.add_argument("--device", default="cpu", help="cpu or cuda")
    audio2exp = models.choices["audio2exp"]
    audio2exp.add_argument("--basis", default=None, help="expression basis checkpoint (default: the shipped checkpoints/expression_pca)")
    audio2exp.add_argument("--val-clips", type=int, default=None, help="whole clips held out for validation")
    for name in ("articulation", "audio2exp-v2"):
        m = models.choices[name]
        m.add_argument("--basis", default=None, help="expression basis checkpoint (default: the shipped checkpoints/expression_pca)")
        m.add_argument("--hold-out", nargs="+", default=[], metavar="NAME", help="clips or people to leave out (every clip of the person)")
        m.add_argument("--phone-cache", default=None, help="where to cache recognised phones (default: the track cache)")
    models.choices["audio2exp-v2"].add_argument(
        "--articulation", default=None, help="articulation table fitted without the held-out people (default: the shipped checkpoints/articulation)"
    )
    add_mfr_parser(models)
    add_font_renderer_parser(models)
    add_font_motion_parsers(models)


def add_font_renderer_parser(models) -> None:
    m = models.add_parser("font-renderer", help="learn FONT's neural renderer from talking videos (self-supervised; CPU: --minutes 90)")
    m.add_argument("--videos", required=True, help="folder of talking videos (one face each)")
    m.add_argument("--out", required=True, help="run and checkpoint folder (resumes from its last state)")
    m.add_argument("--cache", default=None, help="where to cache face tracks and face crops (default: VIDEOS/.talkinghead-cache)")
    m.add_argument("--hold-out", nargs="+", default=[], metavar="NAME", help="clips or people kept for validation (every clip of the person)")
    m.add_argument("--steps", type=int, default=None, help="optimisation steps (default from FontRendererTrainConfig)")
    m.add_argument("--minutes", type=float, default=None, help="stop and save after this wall time")
    m.add_argument("--frames-per-clip", type=int, default=None, help="frames cut from each clip")
    m.add_argument("--perceptual-weights", default=None, metavar="PATH", help="VGG-19 weights (torchvision's vgg19 state dict) for a perceptual loss; none ship")
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--device", default="cpu", help="cpu or cuda")


def add_font_motion_parsers(models) -> None:
    for name, text in (("font-pose", "FONT's head-pose CVAE"), ("font-keypoints", "FONT's keypoint predictor (residual on the content mouth)")):
        m = models.add_parser(name, help=f"learn {text} from talking videos (CPU, under a minute)")
        m.add_argument("--videos", required=True, help="folder of talking videos with their own audio")
        m.add_argument("--out", required=True, help="checkpoint folder to write (config.json, model.safetensors, CARD.md)")
        m.add_argument("--cache", default=None, help="where to cache face tracks and phones (default: VIDEOS/.talkinghead-cache)")
        m.add_argument("--hold-out", nargs="+", default=None, metavar="NAME",
                       help="clips or people kept for validation (default: news_anchor_de studio_man_a hdtf_markey)")
        m.add_argument("--steps", type=int, default=None, help="optimisation steps (default from the recipe's train config)")
        m.add_argument("--seed", type=int, default=0)
        m.add_argument("--device", default="cpu", help="cpu or cuda")


def add_mfr_parser(models) -> None:
    m = models.add_parser("mfr", help="learn MFR-Net's listener diffusion model (CPU, minutes)")
    source = m.add_mutually_exclusive_group(required=True)
    source.add_argument("--from-monologues", metavar="DIR", help="folder of talking videos: listeners are constructed for them (see train/listener_corpus.py)")
    source.add_argument("--pairs", metavar="DIR", help="a ViCo-layout folder of real speaker/listener video pairs (see train/vico.py)")
    m.add_argument("--out", required=True, help="checkpoint folder to write (config.json, model.safetensors, CARD.md)")
    m.add_argument("--cache", default=None, help="where to cache face tracks and phones (default: DIR/.talkinghead-cache)")
    m.add_argument("--hold-out", nargs="+", default=[], metavar="NAME", help="speakers (clips or people; ViCo: speaker ids) kept for validation")
    m.add_argument("--steps", type=int, default=None, help="optimisation steps (default from MFRTrainConfig)")
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--device", default="cpu", help="cpu or cuda")


def run(args: argparse.Namespace) -> int:
    import logging

    from .videos import load_talking_clips

    logging.getLogger("talkinghead").setLevel(logging.INFO)
    started = time.time()
    if args.model == "mfr":
        return train_mfr_command(args, started)
    if args.model == "font-renderer":
        return train_font_renderer_command(args, started)
    clips = load_talking_clips(args.videos, args.cache)
    recipes = {
        "expression-basis": train_basis_command,
        "audio2exp": train_audio2exp_command,
        "osm": train_osm_command,
        "articulation": train_articulation_command,
        "audio2exp-v2": train_audio2exp_v2_command,
        "font-pose": train_font_pose_command,
        "font-keypoints": train_font_keypoints_command,
    }
    return recipes[args.model](args, clips, started)


def command_line() -> str:
    return "talkinghead " + " ".join(shlex.quote(a) for a in sys.argv[1:])


def save_trained(model, report: dict, out: str, started: float) -> Path:
    """Write the model's checkpoint (keeping any CARD.md there) and its training_report.json,
    with the command, the machine and the total time added to the report."""
    report.update(command=command_line(), machine=machine_summary(), total_seconds=time.time() - started)
    folder = Path(out)
    model.save(folder, card=None)
    (folder / "training_report.json").write_text(json.dumps(report, indent=1) + "\n")
    return folder


def train_basis_command(args, clips, started: float) -> int:
    from .basis_recipe import train_expression_basis

    basis = train_expression_basis(clips, args.out)
    explained = ", ".join(f"{n} {v:.3f}" for n, v in zip(basis.names, basis.config.explained_variance))
    card = f"""# Expression basis (PCA of real talking faces)

- Data: {len(clips)} tracked talking videos from `{args.videos}`: {', '.join(c.name for c in clips)}
  ({sum(len(c.track) for c in clips)} frames).
- Command: `{command_line()}` ({time.time() - started:.0f} s on {machine_summary()}).
- What it is: per region, principal components of pose-normalised landmark deformations
  (MediaPipe 478 points, canonical units = inter-ocular distance) from each clip's closed-mouth
  neutral; each component is scaled to 2 standard deviations of the data.
- Share of each region's deformation variance per component: {explained}.
- Eyelids: from the geometric basis (each face's own lids), driven by MotionSequence.eyelids.
"""
    (Path(args.out) / "CARD.md").write_text(card)
    print(f"wrote {args.out} ({len(basis.names)} components)")
    return 0


def train_audio2exp_command(args, clips, started: float) -> int:
    from dataclasses import replace

    from ..facemodel.learned_basis import LearnedBasis
    from .audio2exp_recipe import Audio2ExpTrainConfig, train_audio2exp

    cfg = Audio2ExpTrainConfig(seed=args.seed, device=args.device)
    if args.steps:
        cfg = replace(cfg, steps=args.steps)
    if args.val_clips is not None:
        cfg = replace(cfg, val_clips=args.val_clips)
    basis = LearnedBasis(args.basis)
    model, report = train_audio2exp(clips, basis, cfg)
    out = save_trained(model, report, args.out, started)
    r = report["val_gap_r"]
    print(f"wrote {out}: held-out lip-gap r " + ", ".join(f"{k} {v:.2f}" for k, v in r.items()) + f" ({report['total_seconds']:.0f} s)")
    return 0


def train_osm_command(args, clips, started: float) -> int:
    from dataclasses import replace

    from . import distributed
    from .osm_recipe import OSMTrainConfig, train_osm

    cfg = OSMTrainConfig(seed=args.seed, device=args.device)
    if args.steps:
        cfg = replace(cfg, steps=args.steps)
    dist = distributed.start(args.device)
    try:
        model, report = train_osm(clips, cfg, dist=dist)
    finally:
        dist.close()
    if not dist.is_main:
        return 0
    out = save_trained(model, report, args.out, started)
    print(f"wrote {out}: motion space explains {report['explained_total']:.0%} of the windows' variance ({report['total_seconds']:.0f} s)")
    return 0


def train_articulation_command(args, clips, started: float) -> int:
    import numpy as np

    from ..facemodel.learned_basis import LearnedBasis
    from .articulation_recipe import articulation_card, train_articulation

    cache = args.phone_cache or args.cache or str(Path(args.videos) / ".talkinghead-cache")
    model, report = train_articulation(clips, LearnedBasis(args.basis), hold_out=args.hold_out, phone_cache=cache)
    out = save_trained(model, report, args.out, started)
    (out / "CARD.md").write_text(articulation_card(report, args.videos, out / "CARD.md"))
    r = report["train_gap_r"]
    print(f"wrote {out}: {len(r)} clips, offset {report['offset']:+.3f} s, gain {report['gain']:.2f}, "
          f"training lip-gap r {np.mean(list(r.values())):.2f} ({report['total_seconds']:.0f} s)")
    return 0


def train_audio2exp_v2_command(args, clips, started: float) -> int:
    from dataclasses import replace

    import numpy as np

    from ..facemodel.learned_basis import LearnedBasis
    from ..motion.articulation import Articulation
    from .audio2exp_v2_recipe import Audio2ExpV2TrainConfig, audio2exp_v2_card, train_audio2exp_v2

    cfg = Audio2ExpV2TrainConfig(seed=args.seed, device=args.device)
    if args.steps:
        cfg = replace(cfg, steps=args.steps)
    cache = args.phone_cache or args.cache or str(Path(args.videos) / ".talkinghead-cache")
    articulation = Articulation.load(args.articulation)
    model, report = train_audio2exp_v2(clips, LearnedBasis(args.basis), articulation, cfg, hold_out=args.hold_out, phone_cache=cache)
    out = save_trained(model, report, args.out, started)
    (out / "CARD.md").write_text(audio2exp_v2_card(report, args.videos, args.articulation or "checkpoints/articulation", out / "CARD.md"))
    held = report["held_out"]
    summary = f"held-out lip-gap r {np.mean([v['r'] for v in held.values()]):.2f} (articulation alone {np.mean([v['r_articulation'] for v in held.values()]):.2f})" if held else "no clips held out"
    print(f"wrote {out}: {len(report['train_clips'])} clips, {summary} ({report['total_seconds']:.0f} s)")
    return 0


def train_mfr_command(args, started: float) -> int:
    from dataclasses import replace

    from ..facemodel.face_model import FaceModel
    from .mfr_recipe import MFRTrainConfig, attitude_counts, mfr_card, mfr_examples, new_config, train_mfr

    cfg = MFRTrainConfig(seed=args.seed, device=args.device)
    if args.steps:
        cfg = replace(cfg, steps=args.steps)
    face_model = FaceModel()
    net_config = new_config(face_model)
    train, val, source = mfr_examples(args, face_model, net_config.fps)
    model, report = train_mfr(train, val, net_config, cfg)
    report.update(source=source, train_examples=len(train), val_examples=len(val), attitudes=attitude_counts(train),
                  hold_out=sorted({e.speaker_person for e in val}))  # fmt: skip
    out = save_trained(model, report, args.out, started)
    (out / "CARD.md").write_text(mfr_card(report, out / "CARD.md"))
    last = report["curve"][-1]
    held = "-" if last["val_loss"] is None else f"{last['val_loss']:.3f}"
    print(f"wrote {out}: {len(train)} examples, {report['train_windows']} windows, loss {last['train_loss']:.3f}, "
          f"held-out {held} ({report['total_seconds']:.0f} s)")
    return 0


def train_font_renderer_command(args, started: float) -> int:
    from dataclasses import replace

    from . import distributed
    from .font_renderer_recipe import RUN_FILES, FontRendererTrainConfig, font_renderer_card, load_font_clips, split_clips, train_font_renderer

    cfg = FontRendererTrainConfig(seed=args.seed, device=args.device, minutes=args.minutes)
    changes = {"steps": args.steps, "frames_per_clip": args.frames_per_clip, "perceptual_weights": args.perceptual_weights}
    cfg = replace(cfg, **{k: v for k, v in changes.items() if v is not None})
    train, val = split_clips(load_font_clips(args.videos, args.cache, cfg.crop, cfg.frames_per_clip), args.hold_out)
    dist = distributed.start(args.device)
    try:
        model, report = train_font_renderer(train, val, cfg, Path(args.out), dist=dist)
    finally:
        dist.close()
    if not dist.is_main:
        return 0
    # The checkpoint replaces the folder; the run's config and resumable state stay in it.
    kept = {f.name: f.read_bytes() for f in (Path(args.out) / name for name in RUN_FILES) if f.is_file()}
    out = save_trained(model, report, args.out, started)
    for name, data in kept.items():
        (out / name).write_bytes(data)
    (out / "CARD.md").write_text(font_renderer_card(report))
    held = f"held-out face PSNR {report['val_face_psnr']:.2f} dB (mesh flow alone {report['val_face_psnr_mesh_only']:.2f})" if val else "no clips held out"
    print(f"wrote {out}: {report['steps_done']} steps, {held} ({report['total_seconds']:.0f} s)")
    return 0


def font_train_config(cfg_class, args):
    from dataclasses import replace

    cfg = cfg_class(seed=args.seed, device=args.device)
    changes = {"steps": args.steps, "hold_out": tuple(args.hold_out) if args.hold_out is not None else None}
    return replace(cfg, **{k: v for k, v in changes.items() if v is not None})


def train_font_pose_command(args, clips, started: float) -> int:
    from .font_pose_recipe import FontPoseTrainConfig, font_pose_card, train_font_pose

    model, report = train_font_pose(clips, font_train_config(FontPoseTrainConfig, args))
    out = save_trained(model, report, args.out, started)
    (out / "CARD.md").write_text(font_pose_card(report, args.videos))
    held = report["held_out"].values()
    summary = f"held-out seeds 0-1 RMSE {sum(r['seed_rmse_deg'] for r in held) / max(len(held), 1):.2f} deg" if held else "no clips held out"
    print(f"wrote {out}: {len(report['train_clips'])} clips, {summary} ({report['total_seconds']:.0f} s)")
    return 0


def train_font_keypoints_command(args, clips, started: float) -> int:
    from .font_keypoints_recipe import FontKeypointsTrainConfig, font_keypoints_card, train_font_keypoints

    cache = args.cache or str(Path(args.videos) / ".talkinghead-cache")
    model, report = train_font_keypoints(clips, font_train_config(FontKeypointsTrainConfig, args), phone_cache=cache)
    out = save_trained(model, report, args.out, started)
    (out / "CARD.md").write_text(font_keypoints_card(report, args.videos))
    held = report["held_out"].values()
    summary = (f"held-out lip-gap r {sum(r['r'] for r in held) / len(held):.2f} (content mouth alone "
               f"{sum(r['r_content'] for r in held) / len(held):.2f})") if held else "no clips held out"
    print(f"wrote {out}: {len(report['train_clips'])} clips, {summary} ({report['total_seconds']:.0f} s)")
    return 0
