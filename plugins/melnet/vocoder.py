"""A small neural vocoder for MelNet's spectrograms, in the manner of Vocos (Siuzdak 2023).

MelNet predicts 64 log-mel bins at a 256-sample hop; Griffin-Lim has to guess both the 513
linear bins and their phases from that. This network reads the mel frames with a stack of
ConvNeXt blocks (depthwise temporal convolution, LayerNorm, pointwise MLP, residual) and
predicts, per frame, the log-magnitude and phase of every linear STFT bin; one inverse STFT
turns them into audio. No autoregression and no upsampling layers: it runs at the frame rate,
so it is cheap on a CPU. Trained with a multi-resolution STFT loss (plugins/melnet/train_vocoder).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from host.training import save_atomic
from plugins.melnet.audio import (
    HOP,
    LOG_MEAN,
    LOG_SCALE,
    MEL_FLOOR,
    N_FFT,
    N_MELS,
    mel_filterbank,
)

DEFAULT_VOCODER = Path(__file__).parent / "checkpoints" / "vocoder.pt"
BINS = N_FFT // 2 + 1
MAX_LOG_MAGNITUDE = 6.0  # exp(6) ~ 400: far above any real bin; keeps early training finite


@dataclass(frozen=True)
class VocoderConfig:
    width: int = 128
    blocks: int = 6
    kernel: int = 7


class ConvNeXtBlock(nn.Module):
    def __init__(self, width: int, kernel: int) -> None:
        super().__init__()
        self.depthwise = nn.Conv1d(width, width, kernel, padding=kernel // 2, groups=width)
        self.norm = nn.LayerNorm(width)
        self.expand = nn.Linear(width, 4 * width)
        self.project = nn.Linear(4 * width, width)
        # Start each block close to the identity, as ConvNeXt's layer scale does.
        self.scale = nn.Parameter(torch.full((width,), 0.1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (batch, width, frames)
        y = self.depthwise(x).transpose(1, 2)
        y = self.project(torch.nn.functional.gelu(self.expand(self.norm(y))))
        return x + (self.scale * y).transpose(1, 2)


class MelVocoder(nn.Module):
    def __init__(self, config: VocoderConfig = VocoderConfig()) -> None:
        super().__init__()
        self.config = config
        self.embed = nn.Conv1d(N_MELS, config.width, config.kernel, padding=config.kernel // 2)
        self.blocks = nn.Sequential(
            *[ConvNeXtBlock(config.width, config.kernel) for _ in range(config.blocks)]
        )
        self.norm = nn.LayerNorm(config.width)
        self.head = nn.Linear(config.width, 2 * BINS)
        self.window: torch.Tensor
        self.register_buffer("window", torch.hann_window(N_FFT), persistent=False)

    def spectrum(self, mel: torch.Tensor) -> torch.Tensor:
        """Normalised log-mel (batch, frames, N_MELS) -> complex STFT (batch, BINS, frames)."""
        x = self.blocks(self.embed(mel.transpose(1, 2)))
        log_magnitude, phase = self.head(self.norm(x.transpose(1, 2))).chunk(2, dim=-1)
        magnitude = torch.exp(log_magnitude.clamp(max=MAX_LOG_MAGNITUDE))
        return torch.polar(magnitude, phase).transpose(1, 2)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        """(batch, frames, N_MELS) -> audio (batch, (frames - 1) * HOP): the length whose
        centred STFT has exactly these frames."""
        length = (mel.shape[1] - 1) * HOP
        return torch.istft(
            self.spectrum(mel), N_FFT, HOP, window=self.window, center=True, length=length
        )

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())

    @torch.inference_mode()
    def vocode(self, spec: np.ndarray, samples: int) -> np.ndarray:
        """A (frames, N_MELS) spectrogram -> exactly `samples` samples of float32 audio."""
        mel = torch.from_numpy(np.ascontiguousarray(spec, dtype=np.float32))[None]
        audio = self(mel)[0].numpy()
        return np.pad(audio[:samples], (0, max(0, samples - audio.size))).astype(np.float32)


def multi_resolution_stft_loss(
    estimate: torch.Tensor, target: torch.Tensor, sizes: tuple[int, ...] = (256, 512, 1024, 2048)
) -> torch.Tensor:
    """Mean over STFT sizes of spectral convergence plus log-magnitude L1 (Yamamoto et al.
    2020): no single frame size can hide both timing and pitch errors."""
    total = estimate.new_zeros(())
    for size in sizes:
        window = torch.hann_window(size, device=estimate.device)
        spectra = [
            torch.stft(audio, size, size // 4, window=window, return_complex=True).abs()
            for audio in (estimate, target)
        ]
        made, wanted = spectra
        convergence = torch.linalg.norm(wanted - made) / (torch.linalg.norm(wanted) + 1e-7)
        log_l1 = (torch.log(made + 1e-5) - torch.log(wanted + 1e-5)).abs().mean()
        total = total + convergence + log_l1
    return total / len(sizes)


def mel_loss(estimate: torch.Tensor, mel: torch.Tensor) -> torch.Tensor:
    """L1 between the estimate's log-mel spectrogram and the one it was made from, in nats
    (Vocos's main reconstruction loss): the STFT losses alone left the re-analysed mel several
    dB from its input."""
    window = torch.hann_window(N_FFT, device=estimate.device)
    spectrum = torch.stft(estimate, N_FFT, HOP, window=window, return_complex=True).abs()
    bank = torch.from_numpy(mel_filterbank()).to(estimate.device)
    made = torch.log(torch.clamp(bank @ spectrum, min=MEL_FLOOR)).transpose(1, 2)
    return (made - (mel * LOG_SCALE + LOG_MEAN)).abs().mean()


def save_vocoder(path: Path, model: MelVocoder, info: dict[str, object]) -> None:
    save_atomic(path, {"config": asdict(model.config), "model": model.state_dict(), "info": info})


def load_vocoder(path: Path = DEFAULT_VOCODER) -> MelVocoder:
    state = torch.load(path, map_location="cpu", weights_only=True)
    model = MelVocoder(VocoderConfig(**state["config"]))
    model.load_state_dict(state["model"])
    return model.eval()
