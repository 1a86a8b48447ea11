"""Train MelNet's neural vocoder on the training pieces' audio.

The data builder keeps only spectrograms for training clips (WAVs for test clips alone), so the
first run renders the training clips' notes again with the same FluidSynth settings into
`<data>/vocoder_audio/` (a cache; later runs reuse it). Then: random one-second crops, the
spectrogram computed from each clip's audio exactly as the data builder did, and AdamW on the
multi-resolution STFT loss plus a log-mel L1, with a cosine decay over the time budget. The
checkpoint is written every --save-every minutes (2), so a stopped run leaves a usable one.

    dawhost train melnet-vocoder --minutes 40 [--clips 400] [--start-from vocoder.pt]
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from host.training import Budget, SaveClock, add_budget_arguments, cosine
from plugins.melnet.audio import HOP, N_FFT, log_mel, low_pass
from plugins.melnet.dataset import DEFAULT_DATA
from plugins.melnet.vocoder import (
    DEFAULT_VOCODER,
    MelVocoder,
    VocoderConfig,
    load_vocoder,
    mel_loss,
    multi_resolution_stft_loss,
    save_vocoder,
)

CROP_FRAMES = 64  # about one second
BATCH = 8
MARGIN = N_FFT // HOP // 2  # frames of context a crop's edge frames need (2)
SAVE_MINUTES = 2.0
MEL_WEIGHT = 2.0  # log-mel L1 (nats) next to the STFT losses (about 1 at convergence)


def training_audio(data: Path, limit: int) -> list[np.ndarray]:
    """Audio of up to `limit` training clips, rendered once and cached as .npy."""
    from plugins.melnet.build_data import fluidsynth_render

    cache = data / "vocoder_audio"
    cache.mkdir(exist_ok=True)
    entries = [e for e in json.loads((data / "index.json").read_text()) if e["split"] == "train"]
    clips = []
    for entry in tqdm(entries[:limit], desc="training audio", mininterval=10):
        path = cache / f"{entry['clip']}.npy"
        if not path.is_file():
            with np.load(data / "clips" / f"{entry['clip']}.npz") as stored:
                notes = stored["notes"]
            audio = fluidsynth_render(notes, entry["instrument"], entry["seconds"])
            np.save(path, audio.astype(np.float32))
        clips.append(np.load(path))
    return clips


def augmented(audio: np.ndarray, rng: random.Random) -> np.ndarray:
    """A random gain (-20..+6 dB), and for one crop in three a low-pass at 0.5-6 kHz.

    Without the low-pass the network learned that empty upper bands mean digital silence (every
    FluidSynth frame with sound has some energy up there) and muted clean, band-limited inputs
    entirely - a pure tone, or a sparse sampled spectrogram."""
    audio = audio * 10 ** (rng.uniform(-20.0, 6.0) / 20)
    if rng.random() < 1 / 3:
        audio = low_pass(audio, rng.uniform(500.0, 6000.0))
    return audio.astype(np.float32)


def random_crops(clips: list[np.ndarray], rng: random.Random) -> tuple[torch.Tensor, torch.Tensor]:
    """(mel crops (BATCH, CROP_FRAMES, N_MELS), the audio they stand for).

    Each crop is augmented with MARGIN frames of audio on either side and its spectrogram
    computed from that, so the crop's frames see exactly the audio a whole-clip analysis
    would (no padding at the crop's edges)."""
    mels, audios = [], []
    for _ in range(BATCH):
        audio = clips[rng.randrange(len(clips))]
        start = rng.randrange(MARGIN, audio.size // HOP - CROP_FRAMES - MARGIN)
        piece = augmented(audio[(start - MARGIN) * HOP : (start + CROP_FRAMES + MARGIN) * HOP], rng)
        mels.append(log_mel(piece)[MARGIN : MARGIN + CROP_FRAMES])
        audios.append(piece[MARGIN * HOP : (MARGIN + CROP_FRAMES - 1) * HOP])
    return torch.from_numpy(np.stack(mels)), torch.from_numpy(np.stack(audios))


def train(
    clips: list[np.ndarray],
    out: Path,
    minutes: float,
    config: VocoderConfig | None = None,
    seed: int = 0,
    lr: float = 1e-3,
    start_from: Path | None = None,
    mel_weight: float = MEL_WEIGHT,
    save_every: float = SAVE_MINUTES,
    max_steps: int = 0,
) -> list[list[float]]:
    """Train for `minutes` of wall time or `max_steps` steps, whichever ends first (from
    `start_from`'s weights if given), saving every `save_every` minutes; returns the loss curve
    [(step, loss, seconds)]."""
    rng = random.Random(seed)
    torch.manual_seed(seed)
    usable = [a for a in clips if a.size // HOP > CROP_FRAMES + 2 * MARGIN]
    model = (
        load_vocoder(start_from).train() if start_from else MelVocoder(config or VocoderConfig())
    )
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr)
    curve: list[list[float]] = []
    budget, clock = Budget(minutes, max_steps), SaveClock(save_every)
    step, running = 0, None
    bar = budget.bar("vocoder", mininterval=20)
    while not budget.spent(step):
        elapsed = budget.elapsed
        for group in optimiser.param_groups:
            group["lr"] = lr * cosine(budget.fraction(step), floor=0.05)
        mel, audio = random_crops(usable, rng)
        made = model(mel)
        loss = multi_resolution_stft_loss(made, audio)
        if mel_weight:
            loss = loss + mel_weight * mel_loss(made, mel)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
        step += 1
        running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
        if step % 50 == 0:
            curve.append([step, round(running, 4), round(elapsed, 1)])
            bar.set_postfix(step=step, loss=f"{running:.3f}")
            budget.advance(bar, step)
        if clock.due():
            save_vocoder(out, model, {"step": step, "seconds": round(elapsed), "curve": curve})
    bar.close()
    seconds = budget.elapsed if max_steps else minutes * 60.0
    save_vocoder(out, model.eval(), {"step": step, "seconds": round(seconds), "curve": curve})
    return curve


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dawhost train melnet-vocoder", description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=DEFAULT_VOCODER)
    add_budget_arguments(parser, minutes=30.0, save_every=SAVE_MINUTES)
    parser.add_argument("--clips", type=int, default=400, help="training clips to use")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--start-from", type=Path, default=None, help="continue from weights")
    parser.add_argument("--lr", type=float, default=1e-3, help="peak learning rate")
    parser.add_argument("--mel-weight", type=float, default=MEL_WEIGHT, help="log-mel L1 weight")
    parser.add_argument("--width", type=int, default=VocoderConfig.width)
    parser.add_argument("--blocks", type=int, default=VocoderConfig.blocks)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    clips = training_audio(args.data, args.clips)
    config = VocoderConfig(width=args.width, blocks=args.blocks)
    curve = train(
        clips,
        args.out,
        args.minutes,
        config,
        seed=args.seed,
        lr=args.lr,
        start_from=args.start_from,
        mel_weight=args.mel_weight,
        save_every=args.save_every,
        max_steps=args.max_steps,
    )
    print(json.dumps({"out": str(args.out), "steps": curve[-1][0] if curve else 0}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
