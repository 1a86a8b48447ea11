"""Chunked overlap-add: exact reconstruction across windows, stems that are their masks applied,
files at the input's rate/length/channels, progress per chunk and clean cancellation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch

from plugins.separation.network import MMDenseNet
from plugins.separation.separate import Separator, stream_windows, window_weights
from plugins.separation.spectral import apply_gains, inverse, masks_at_rate, spectrum
from plugins.separation.stems import STEMS
from plugins.separation.wiener import wiener
from tests.plugins.separation.conftest import tone_mix


@pytest.mark.parametrize("total", [1, 999, 1000, 10_007])
def test_windows_cross_fade_to_exactly_the_input(total: int) -> None:
    rng = np.random.default_rng(0)
    audio = rng.standard_normal((total, 2)).astype(np.float32)
    blocks: list[np.ndarray] = []
    seen: list[tuple[int, int]] = []
    stream_windows(
        total,
        1000,
        lambda a, b: audio[a:b],
        lambda x, _rate: np.stack([x, 2 * x]),
        blocks.append,
        lambda done, count: seen.append((done, count)),
        hop_seconds=1.0,
        context_seconds=0.25,
    )
    out = np.concatenate(blocks, axis=1)
    assert out.shape == (2, total, 2)
    np.testing.assert_allclose(out[0], audio, atol=1e-5)
    np.testing.assert_allclose(out[1], 2 * audio, atol=1e-5)
    count = max(1, -(-total // 1000))
    assert seen == [(i, count) for i in range(count + 1)]


def test_neighbouring_weights_sum_to_one() -> None:
    hop, context = 100, 20
    first = window_weights(0, 120, 0, 3, hop, context)
    second = window_weights(80, 220, 1, 3, hop, context)
    overlap = first[80:120] + second[:40]
    np.testing.assert_allclose(overlap, 1.0, atol=1e-6)
    assert first[0] == 1.0 and second[60] == 1.0


@pytest.mark.parametrize("rate,channels", [(44_100, 2), (22_050, 1), (48_000, 2)])
def test_every_stem_is_its_mask_applied_to_the_mix(
    tiny_network: MMDenseNet, rate: int, channels: int
) -> None:
    """The last stem is computed as the mix minus the others (the masks sum to one); it must
    equal filtering the mix with its own mask, as the other stems are."""
    audio = tone_mix(1.2, rate, channels)
    separator = Separator(tiny_network)
    stems = separator.separate_window(audio, rate)
    assert stems.shape == (len(STEMS), *audio.shape)
    with torch.inference_mode():
        mix = spectrum(torch.from_numpy(np.ascontiguousarray(audio.T)), rate)
        gains = masks_at_rate(separator.masks(audio, rate), rate, *mix.shape[-2:])
        filtered = inverse(apply_gains(gains, mix), rate, len(audio)).permute(0, 2, 1).numpy()
    np.testing.assert_allclose(stems, filtered, atol=1e-5)


def test_wiener_refinement_keeps_the_sum_and_the_true_split() -> None:
    rng = np.random.default_rng(1)
    shape = (2, 65, 30)
    sources = torch.from_numpy(
        rng.standard_normal((4, *shape)) + 1j * rng.standard_normal((4, *shape))
    ).to(torch.complex64)
    sources[0, :, 32:] = 0  # stem 0 lives in the low bins, the rest above
    sources[1:, :, :32] = 0
    mixture = sources.sum(dim=0)
    refined = wiener(sources, mixture, iterations=2)
    assert torch.allclose(refined.sum(dim=0), mixture, atol=1e-3)
    low_error = (refined[0] - sources[0]).abs().pow(2).sum() / sources[0].abs().pow(2).sum()
    assert low_error < 1e-3


def test_files_match_the_input_and_write_progress(
    tiny_network: MMDenseNet, song_file: Path, tmp_path: Path
) -> None:
    targets = {stem: tmp_path / f"{stem}.wav" for stem in STEMS}
    calls: list[tuple[int, int]] = []
    Separator(tiny_network).separate_file(
        song_file, targets, progress=lambda d, c: calls.append((d, c))
    )
    source = soundfile.info(str(song_file))
    total = np.zeros((source.frames, source.channels))
    for stem, path in targets.items():
        info = soundfile.info(str(path))
        assert (info.samplerate, info.frames, info.channels) == (
            source.samplerate,
            source.frames,
            source.channels,
        ), stem
        total += soundfile.read(path, always_2d=True)[0]
    np.testing.assert_allclose(total, soundfile.read(song_file, always_2d=True)[0], atol=1e-4)
    assert calls[0] == (0, 1) and calls[-1] == (1, 1)
    assert not list(tmp_path.glob("*.part"))


def test_cancelling_between_chunks_leaves_no_files(
    tiny_network: MMDenseNet, tmp_path: Path
) -> None:
    path = tmp_path / "long.wav"
    soundfile.write(path, tone_mix(25.0, 11_025), 11_025)  # three 10 s chunks
    targets = {stem: tmp_path / f"{stem}.wav" for stem in STEMS}
    chunks: list[int] = []

    def progress(done: int, count: int) -> None:
        chunks.append(done)
        if done == 1:
            raise KeyboardInterrupt("stop")  # any exception, like JobCancelled

    with pytest.raises(KeyboardInterrupt):
        Separator(tiny_network).separate_file(path, targets, progress=progress)
    assert chunks == [0, 1]
    assert not [
        p for p in tmp_path.iterdir() if p.suffix in (".wav", ".part") and p.name != "long.wav"
    ]


def test_length_cuts_the_output(tiny_network: MMDenseNet, song_file: Path, tmp_path: Path) -> None:
    targets = {stem: tmp_path / f"{stem}.wav" for stem in STEMS}
    Separator(tiny_network).separate_file(song_file, targets, length=44_100)
    assert all(soundfile.info(str(p)).frames == 44_100 for p in targets.values())
