"""Train the vocal_tts acoustic model and vocoder together on one CPU thread, for a time budget.

Steps alternate between the two networks. The vocoder first learns from the teacher's mels;
after half the budget, half of its batches use the acoustic model's predicted mels instead, so
it learns to vocode what it will actually be given. New data shards are picked up while the
builder is still running. Every --save-every minutes (5) the networks are validated and the
checkpoint is written if validation improved.
With --init FILE it fine-tunes a checkpoint instead of starting from scratch: every weight is
kept, the phoneme and speaker tables grow to the new symbols and voices (a new voice starts
from the mean of the old voices, a new phoneme at random) and the mel normalisation is kept.
Usage: dawhost train vocal-tts [--minutes 60] [--save-every 5] [--data DIR] [--out FILE]
       [--init FILE] [--lr 1e-3]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from host.training import Budget, SaveClock, add_budget_arguments, cosine
from plugins.vocal_tts.acoustic import AcousticConfig, AcousticModel
from plugins.vocal_tts.build_data import DATA_DIR
from plugins.vocal_tts.checkpoint import DEFAULT_CHECKPOINT, Bundle, load, save
from plugins.vocal_tts.dataset import Corpus, Item, crop_batch, symbols_in
from plugins.vocal_tts.festival import PHONES
from plugins.vocal_tts.phonemes import Vocabulary
from plugins.vocal_tts.vocoder import HarmonicPlusNoise, VocoderConfig, multi_resolution_stft_loss
from plugins.vocal_tts.voices import VOICE_NAMES

ACOUSTIC_FRAMES, ACOUSTIC_BATCH = 200, 12
VOCODER_FRAMES, VOCODER_BATCH = 100, 6


def acoustic_loss(model: AcousticModel, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    predicted = model(batch["phonemes"], batch["durations"], batch["f0"], batch["speaker"])
    mask = batch["mask"].unsqueeze(-1)
    return ((predicted - batch["mel"]).abs() * mask).sum() / (mask.sum() * predicted.shape[-1])


def vocoder_loss(
    vocoder: HarmonicPlusNoise, batch: dict[str, torch.Tensor], mel: torch.Tensor | None = None
) -> torch.Tensor:
    audio = vocoder(batch["mel"] if mel is None else mel, batch["f0"])
    return multi_resolution_stft_loss(audio, batch["audio"])


def mel_statistics(items: list[Item]) -> tuple[np.ndarray, np.ndarray]:
    mels = np.concatenate([item.mel for item in items[:400]])
    return mels.mean(0).astype(np.float32), (mels.std(0) + 1e-3).astype(np.float32)


def validate(bundle: Bundle, items: list[Item]) -> dict[str, float]:
    rng = np.random.default_rng(0)  # the same windows every time, so numbers compare
    bundle.acoustic.eval()
    bundle.vocoder.eval()
    acoustic, vocoder = [], []
    with torch.no_grad():
        for start in range(0, min(len(items), 96), 12):
            chunk = items[start : start + 12]
            batch = crop_batch(chunk, rng, ACOUSTIC_FRAMES, bundle.mel_mean, bundle.mel_std)
            acoustic.append(float(acoustic_loss(bundle.acoustic, batch)))
            batch = crop_batch(chunk, rng, VOCODER_FRAMES, bundle.mel_mean, bundle.mel_std)
            torch.manual_seed(0)
            vocoder.append(float(vocoder_loss(bundle.vocoder, batch)))
    bundle.acoustic.train()
    bundle.vocoder.train()
    return {"acoustic_l1": float(np.mean(acoustic)), "vocoder_stft": float(np.mean(vocoder))}


def grown_from(old: Bundle, vocabulary: Vocabulary, speakers: int) -> AcousticModel:
    """`old`'s acoustic model with phoneme rows for `vocabulary` and `speakers` speaker rows:
    known symbols and speakers keep their rows, new speakers start at the old speakers' mean."""
    config = dataclasses.replace(old.acoustic.config, vocab=len(vocabulary), speakers=speakers)
    model = AcousticModel(config)
    state = model.state_dict()
    for name, value in old.acoustic.state_dict().items():
        if name in state and state[name].shape == value.shape:
            state[name] = value.clone()
    old_ids = {symbol: index for index, symbol in enumerate(old.vocabulary.symbols)}
    with torch.no_grad():
        for index, symbol in enumerate(vocabulary.symbols):
            if symbol in old_ids:
                state["phoneme.weight"][index] = old.acoustic.phoneme.weight[old_ids[symbol]]
        known = old.acoustic.speaker.weight
        state["speaker.weight"][: len(known)] = known
        state["speaker.weight"][len(known) :] = known.mean(0)
    model.load_state_dict(state)
    return model


def wait_for_shards(folder: Path, minutes: float) -> list[Path]:
    deadline = time.time() + minutes * 60
    while time.time() < deadline:
        shards = sorted(folder.glob("shard*.npz"))
        if shards:
            return shards
        time.sleep(10)
    raise SystemExit(f"no training shards in {folder}; run python -m plugins.vocal_tts.build_data")


def train(
    data: Path,
    out: Path,
    minutes: float,
    seed: int,
    tiny: bool = False,
    save_every: float = 5.0,
    max_steps: int = 0,
    init: Path | None = None,
    lr: float = 1e-3,
) -> dict[str, float]:
    """Train for `minutes` (or `max_steps` steps), validating every `save_every` minutes and at
    the end; returns the last validation."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    wait_for_shards(data / "train", 30)
    shards = sorted((data / "train").glob("shard*.npz")) + sorted(
        (data / "validation").glob("shard*.npz")
    )
    start = load(init) if init is not None else None
    # The whole phone inventory up front: shards still being built may bring new symbols.
    known = start.vocabulary.symbols if start is not None else []
    vocabulary = Vocabulary([*symbols_in(shards), *PHONES, *known])
    corpus, held_out = Corpus(data / "train", vocabulary), Corpus(data / "validation", vocabulary)
    corpus.refresh()
    held_out.refresh()
    if not held_out.items:
        held_out = corpus
    speakers = len(VOICE_NAMES)
    if start is not None:
        bundle = Bundle(
            vocabulary,
            grown_from(start, vocabulary, speakers),
            start.vocoder,
            start.mel_mean,
            start.mel_std,
        )
        bundle.acoustic.train()
        bundle.vocoder.train()
    else:
        mel_mean, mel_std = mel_statistics(corpus.items)
        acoustic_config = AcousticConfig(len(vocabulary), speakers=speakers)
        vocoder_config = VocoderConfig()
        if tiny:
            acoustic_config = AcousticConfig(
                len(vocabulary), speakers=speakers, width=32, encoder_layers=1, decoder_layers=2
            )
            vocoder_config = VocoderConfig(harmonics=16, noise_bands=8, width=32, layers=2)
        bundle = Bundle(
            vocabulary,
            AcousticModel(acoustic_config),
            HarmonicPlusNoise(vocoder_config),
            mel_mean,
            mel_std,
        )
    mel_mean, mel_std = bundle.mel_mean, bundle.mel_std
    acoustic_optimiser = torch.optim.AdamW(bundle.acoustic.parameters(), lr=lr)
    vocoder_optimiser = torch.optim.AdamW(bundle.vocoder.parameters(), lr=lr)
    budget, clock = Budget(minutes, max_steps), SaveClock(save_every)
    best = float("inf")
    step = 0
    history: list[dict[str, float]] = []
    bar = budget.bar("vocal-tts")
    while not budget.spent(step):
        fraction = budget.fraction(step)
        step += 1
        # Cosine learning-rate decay over the time budget.
        for optimiser in (acoustic_optimiser, vocoder_optimiser):
            for group in optimiser.param_groups:
                group["lr"] = lr * cosine(fraction, floor=0.1)
        picks = [corpus.items[i] for i in rng.integers(len(corpus.items), size=ACOUSTIC_BATCH)]
        batch = crop_batch(picks, rng, ACOUSTIC_FRAMES, mel_mean, mel_std)
        loss_a = acoustic_loss(bundle.acoustic, batch)
        acoustic_optimiser.zero_grad()
        loss_a.backward()
        torch.nn.utils.clip_grad_norm_(bundle.acoustic.parameters(), 1.0)
        acoustic_optimiser.step()

        picks = [corpus.items[i] for i in rng.integers(len(corpus.items), size=VOCODER_BATCH)]
        batch = crop_batch(picks, rng, VOCODER_FRAMES, mel_mean, mel_std)
        predicted = None
        if (fraction > 0.5 or start is not None) and rng.random() < 0.5:
            with torch.no_grad():
                predicted = bundle.acoustic(
                    batch["phonemes"], batch["durations"], batch["f0"], batch["speaker"]
                )
        loss_v = vocoder_loss(bundle.vocoder, batch, predicted)
        vocoder_optimiser.zero_grad()
        loss_v.backward()
        torch.nn.utils.clip_grad_norm_(bundle.vocoder.parameters(), 1.0)
        vocoder_optimiser.step()

        if step % 200 == 0:
            added = corpus.refresh()
            if added:
                tqdm.write(f"step {step}: +{added} examples, {len(corpus.items)} in total")
        bar.set_postfix(step=step, mel_l1=f"{loss_a.item():.3f}", stft=f"{loss_v.item():.3f}")
        budget.advance(bar, step)
        if clock.due() or budget.spent(step):
            scores = validate(bundle, held_out.items)
            scores.update(
                step=step,
                minutes=round(budget.elapsed / 60, 1),
                examples=len(corpus.items),
            )
            history.append(scores)
            tqdm.write(json.dumps(scores))
            total = scores["acoustic_l1"] + scores["vocoder_stft"] / 10
            if total < best:
                best = total
                bundle.stats = {
                    "history": history,
                    "seed": seed,
                    "data": str(data),
                    "init": str(init) if init else None,
                    "voices": list(VOICE_NAMES),
                }
                save(bundle, out)
    bar.close()
    if best == float("inf"):  # a budget too short to reach any save point: save once anyway
        bundle.stats = {"history": history, "seed": seed, "voices": list(VOICE_NAMES)}
        save(bundle, out)
    return history[-1] if history else {}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Train vocal-tts (acoustic model + vocoder)")
    parser.add_argument("--data", type=Path, default=DATA_DIR)
    parser.add_argument("--out", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--tiny", action="store_true", help="tiny networks (for tests)")
    parser.add_argument("--init", type=Path, help="fine-tune this checkpoint instead")
    parser.add_argument("--lr", type=float, default=1e-3, help="peak learning rate")
    add_budget_arguments(
        parser,
        minutes=60.0,
        save_every=5.0,
        save_help="minutes between validations (the "
        "checkpoint is written when validation improved)",
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    scores = train(
        args.data,
        args.out,
        args.minutes,
        args.seed,
        args.tiny,
        args.save_every,
        args.max_steps,
        args.init,
        args.lr,
    )
    print(json.dumps(scores))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
