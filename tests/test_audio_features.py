"""Log-mel features, loudness normalisation and the shared audio encoder."""

from __future__ import annotations

import numpy as np
import torch

from talkinghead.audio.encoder import AudioEncoder, AudioEncoderConfig
from talkinghead.audio.mel import LogMel, MelConfig, audio_windows, frame_windows, mel_filterbank
from talkinghead.types import AudioClip

from .conftest import syllables


def test_filterbank_is_ordered_triangles_of_unit_area():
    cfg = MelConfig()
    bank = mel_filterbank(cfg)
    assert bank.shape == (cfg.n_mels, cfg.n_fft // 2 + 1)
    peaks = bank.argmax(axis=1)
    assert np.all(np.diff(peaks) >= 0) and peaks[-1] > peaks[0]
    bin_hz = cfg.sample_rate / cfg.n_fft
    assert np.allclose(bank.sum(axis=1) * bin_hz, 1.0, atol=0.35)  # coarse bins at low frequencies


def test_log_mel_frames_and_a_tone_lands_in_its_band():
    cfg = MelConfig()
    t = np.arange(cfg.sample_rate) / cfg.sample_rate
    tone = torch.from_numpy(np.sin(2 * np.pi * 1000 * t).astype(np.float32))
    mel = LogMel(cfg)(tone[None])[0]
    assert mel.shape == (cfg.sample_rate // cfg.hop_length + 1, cfg.n_mels)
    centres = mel_filterbank(cfg).argmax(axis=1) * cfg.sample_rate / cfg.n_fft
    assert abs(centres[int(mel[50].argmax())] - 1000) < 120


def test_windows_are_centred_on_each_video_frame():
    cfg = MelConfig()
    mel = torch.full((200, cfg.n_mels), -5.0)
    mel[100] = 3.0  # an event at 1.0 s
    windows = frame_windows(mel, 25.0, 50, cfg)
    assert windows.shape == (50, cfg.window_frames, cfg.n_mels)
    frame = 24  # centred at (24 + 0.5) / 25 = 0.98 s
    offset = int(windows[frame, :, 0].argmax()) - cfg.window_frames // 2
    assert offset == 2  # the event is 0.02 s = 2 mel frames after the frame's centre


def test_loudness_normalisation_makes_quiet_and_loud_speech_alike():
    speech = syllables(2.0)
    loud = audio_windows(AudioClip(speech, 16000), 25.0)
    quiet = audio_windows(AudioClip(speech * 0.05, 16000), 25.0)
    assert torch.allclose(loud, quiet, atol=1e-3)


def test_silence_stays_at_the_floor():
    windows = audio_windows(AudioClip(np.zeros(16000, np.float32), 16000), 25.0)
    assert float(windows.max()) < -11


def test_encoder_shapes_and_normalisation():
    cfg = AudioEncoderConfig()
    encoder = AudioEncoder(cfg)
    windows = torch.randn(2, 7, cfg.window_frames, cfg.n_mels) * 3 - 5
    encoder.set_normalisation(windows)
    assert torch.allclose(encoder.mel_mean, windows.reshape(-1, cfg.n_mels).mean(0), atol=1e-4)
    assert encoder(windows).shape == (2, 7, cfg.dim)
