"""Audio experts: whisper_audio (Whisper tiny.en encoder) and vggish, on synthetic tones."""

from __future__ import annotations

import numpy as np
import pytest

from vidseek.errors import WeightsNotFoundError
from vidseek.extract.experts import ExpertOptions, create_expert, expert_cards
from vidseek.extract.experts.vggish import N_MELS, log_mel, patches
from vidseek.extract.experts.whisper_audio import window_bounds
from vidseek.types import AudioChunk, Features, VideoInfo

SR = 16000
AUDIO_EXPERTS = [c.name for c in expert_cards()
                 if c.modality == "audio" and c.builder.__module__.startswith("vidseek.")]


def _info(duration: float, has_audio: bool = True) -> VideoInfo:
    return VideoInfo("v", "v.mp4", 0, 0.0, "", duration, 25.0, 64, 48, has_audio)


def _tone(seconds: float, hz: float = 440.0, amp: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (amp * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def _feed(expert, pcm: np.ndarray, chunk: int = 7000) -> Features:  # noqa: ANN001
    session = expert.session(_info(len(pcm) / SR))
    for i in range(0, len(pcm), chunk):
        session.add_audio(AudioChunk(i / SR, SR, pcm[i:i + chunk]))
    return session.finish()


def test_window_bounds() -> None:
    assert window_bounds(0) == []
    assert window_bounds(SR) == [(0.0, 0.96)]  # 0.04 s tail < 0.48: dropped
    np.testing.assert_allclose(window_bounds(int(1.5 * SR)), [(0.0, 0.96), (0.96, 1.5)])
    np.testing.assert_allclose(window_bounds(int(0.2 * SR)), [(0.0, 0.2)])  # only audio: kept


@pytest.mark.parametrize("name", AUDIO_EXPERTS)
def test_tiny_twin_contract(name: str) -> None:
    e = create_expert(name, ExpertOptions(tiny=True))
    assert e.weights.random and e.spec.sample_rate == SR and e.spec.fps is None
    f = _feed(e, _tone(3.0))
    assert f.values.shape == (3, e.spec.dim) and np.isfinite(f.values).all()
    np.testing.assert_allclose(f.times, [[0, 0.96], [0.96, 1.92], [1.92, 2.88]], atol=1e-9)
    silent = _feed(e, np.zeros(3 * SR, np.float32))
    assert len(silent) == 3 and np.isfinite(silent.values).all()
    nothing = e.session(_info(3.0, has_audio=False)).finish()  # no add_audio: no audio track
    assert len(nothing) == 0 and nothing.values.shape == (0, e.spec.dim)


def test_whisper_chunks_do_not_change_rows() -> None:
    """Feeding 35 s in odd chunks crosses the 28.8 s encoder piece; rows stay contiguous."""
    e = create_expert("whisper_audio", ExpertOptions(tiny=True))
    pcm = _tone(35.0, hz=300.0)
    a, b = _feed(e, pcm, chunk=12345), _feed(e, pcm, chunk=len(pcm))
    np.testing.assert_allclose(a.values, b.values, rtol=1e-5, atol=1e-6)
    assert len(a) == 36 and a.times[30, 0] == pytest.approx(28.8)
    np.testing.assert_allclose(a.times[1:, 0], a.times[:-1, 1])


def test_whisper_audio_real_encoder() -> None:
    """The shipped tiny.en encoder: 384-d rows; a tone and silence give valid, different rows."""
    try:
        e = create_expert("whisper_audio")
    except WeightsNotFoundError as err:
        pytest.skip(str(err))
    assert e.spec.dim == 384 and not e.weights.random
    tone, silent = _feed(e, _tone(2.0)), _feed(e, np.zeros(2 * SR, np.float32))
    assert tone.values.shape == (2, 384) and silent.values.shape == (2, 384)
    assert np.isfinite(tone.values).all() and np.isfinite(silent.values).all()
    assert np.abs(tone.values - silent.values).max() > 0.1


def test_vggish_front_end_puts_a_tone_in_its_mel_band() -> None:
    """Oracle: a 1 kHz tone peaks in the HTK mel band whose centre is nearest 1 kHz."""
    import librosa

    lm = log_mel(_tone(2.0, hz=1000.0))
    assert lm.shape == (1 + (2 * SR - 400) // 160, N_MELS)
    centres = librosa.mel_frequencies(N_MELS + 2, fmin=125.0, fmax=7500.0, htk=True)[1:-1]
    assert abs(int(lm.mean(0).argmax()) - int(np.abs(centres - 1000).argmin())) <= 1
    assert patches(lm).shape == (2, 96, 64)


def test_vggish_without_weights_says_where() -> None:
    try:
        create_expert("vggish")
    except WeightsNotFoundError as err:
        assert "vggish-10086976.pth" in str(err)
    else:  # someone imported the weights: then it must embed
        pass
