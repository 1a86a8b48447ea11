"""Sampling continuations: temperature / top-k / top-p with a seeded generator, a KV cache, and
a sliding context for continuations longer than the model's window.

`Continuation.stream()` yields one token per sequence per step, so callers can decode and send
notes while sampling goes on. When the cache is full, the context restarts from the style token
plus the last half window (one prefill), which keeps every step O(window) instead of O(length).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch

from plugins.music_transformer.events import (
    END,
    KEY_STRENGTH_MAX,
    NOTE_OFF,
    NOTE_ON,
    PAD,
    SHIFT_STEPS,
    STEP_SECONDS,
    STYLE,
    TIME_SHIFT,
    VELOCITY,
    VELOCITY_BINS,
    EventDecoder,
)
from plugins.music_transformer.incremental import KVCache, prefill, step
from plugins.music_transformer.model import MusicTransformer

# Never sampled: padding, style tokens (only ever the first token), and END (a continuation
# runs for the requested length).
_BANNED = [PAD, END, *range(STYLE, STYLE + 64)]


@dataclass(frozen=True)
class SamplingSettings:
    temperature: float = 1.0
    top_k: int = 0  # 0: off
    top_p: float = 1.0  # 1.0: off
    # Forbid NOTE_OFF of a silent pitch and NOTE_ON of a sounding one, so every note the
    # stream opens is a real note (the evaluation measures the model without this).
    well_formed: bool = False
    # Key prior: pull NOTE_ONs towards the pitch classes of the prefix, weighted by duration
    # (0: the network alone, exactly). See `key_bias`.
    key_strength: float = 0.0
    # With key_strength: give the NOTE_ONs back the network's total mass at every step, so the
    # prior picks among pitches and never changes how many notes start (False: the plain
    # product of experts, which also makes every note rarer; kept for the evaluation).
    key_keeps_density: bool = True
    # With well_formed: no note sounds longer than this (time shifts that would pass it are
    # masked, then only its NOTE_OFF may come). None: no limit.
    max_hold_seconds: float | None = None
    # With well_formed: no note that ends where it starts (its NOTE_OFF waits for a time
    # shift) and no two velocity events in a row. Neither ever occurs in the corpus's
    # encoding, and without this the network can fall into a loop of one pitch struck and
    # released forever (`NOTE_ON 76, NOTE_OFF 76, ...`) in which time never moves.
    grammar: bool = True


KEY_FLOOR = 0.02  # eps: the share a pitch class absent from the primer counts as having


def check_key_strength(strength: float) -> float:
    """The key prior's strength, or a ValueError saying what is allowed."""
    if not isinstance(strength, (int, float)) or not math.isfinite(strength):
        raise ValueError(f"key_strength must be a finite number, got {strength!r}")
    if not 0.0 <= strength <= KEY_STRENGTH_MAX:
        raise ValueError(
            f"key_strength must be between 0 (off) and {KEY_STRENGTH_MAX:g}, got {strength:g}"
        )
    return float(strength)


def primer_key_profile(prefix: Sequence[int]) -> torch.Tensor | None:
    """(12,) share of each pitch class in the prefix's notes, weighted by how long each note
    sounds (a held tonic counts more than a passing note); None when the prefix has no notes.
    Notes still sounding at the end count up to there."""
    decoder = EventDecoder()
    notes = []
    for token in prefix:
        if token < STYLE:
            notes.extend(decoder.feed(token))
    notes.extend(decoder.flush())
    if not notes:
        return None
    weights = torch.zeros(12, dtype=torch.float64)
    for note in notes:
        weights[note.pitch % 12] += note.duration
    return (weights / weights.sum()).float()


def key_bias(prefix: Sequence[int], strength: float, vocab: int) -> torch.Tensor:
    """(vocab,) additive logits: `strength * log(p_primer(pitch class) + KEY_FLOOR)` on every
    NOTE_ON, 0 elsewhere, with p_primer the prefix's duration-weighted pitch-class histogram:
    a product of experts of the network and the primer's key profile. The sampler renormalises
    it at every step (`keep_note_mass`), so only the ratios between pitch classes matter: with
    strength 1 a class the primer never plays is (p + KEY_FLOOR) / KEY_FLOOR times less likely
    than one with share p (11x for p = 0.2), with strength 2 that squared (121x)."""
    strength = check_key_strength(strength)
    bias = torch.zeros(vocab)
    profile = primer_key_profile(prefix) if strength > 0 else None
    if profile is None:
        return bias
    by_class = strength * torch.log(profile + KEY_FLOOR)
    bias[NOTE_ON:NOTE_OFF] = by_class[torch.arange(128) % 12]
    return bias


def note_mass_shift(scaled: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
    """(batch,) what to add to the NOTE_ON logits of each row of `scaled` (logits over
    temperature plus the additive mask, which holds the key prior `key`) to give the NOTE_ONs
    back the probability mass they have without the prior. The prior then only chooses *which*
    pitch; *whether* a note starts now stays the network's, so it cannot thin the output. 0 for
    a row whose NOTE_ONs are all masked."""
    ons = slice(NOTE_ON, NOTE_OFF)
    with_key = torch.logsumexp(scaled[:, ons], dim=-1)
    without = torch.logsumexp(scaled[:, ons] - key[ons], dim=-1)
    return torch.where(torch.isfinite(with_key), without - with_key, torch.zeros_like(with_key))


def banned_bias(vocab: int) -> torch.Tensor:
    """(vocab,) additive mask: -inf on the tokens never sampled, 0 elsewhere."""
    bias = torch.zeros(vocab)
    bias[[t for t in _BANNED if t < vocab]] = float("-inf")
    return bias


def sample_next(
    logits: torch.Tensor,
    settings: SamplingSettings,
    generator: torch.Generator,
    bias: torch.Tensor | None = None,
    key: torch.Tensor | None = None,
) -> torch.Tensor:
    """One token per row of logits (batch, vocab) -> (batch,). `bias` is an additive mask
    (vocab,) or (batch, vocab) of 0 / -inf; by default it bans PAD, END and the style tokens.
    `key`: the key prior (`key_bias`) that `bias` already holds; given, the NOTE_ONs get back
    the network's total mass before top-k / top-p (`note_mass_shift`).

    Inverse-CDF sampling with one uniform draw per row: the few calls it takes matter at ~1,000
    events per second. Top-p keeps the shortest run of most likely tokens whose mass reaches
    top_p (the best always stays)."""
    vocab = logits.shape[-1]
    if bias is None:
        bias = banned_bias(vocab)
    scaled = torch.add(bias, logits.float(), alpha=1 / max(settings.temperature, 1e-4))
    if key is not None:
        scaled[:, NOTE_ON:NOTE_OFF] += note_mass_shift(scaled, key)[:, None]
    if 0 < settings.top_k < vocab:
        kth = torch.topk(scaled, settings.top_k, dim=-1).values[:, -1:]
        scaled = scaled.masked_fill(scaled < kth, float("-inf"))
    order = None
    if settings.top_p < 1.0:
        scaled, order = torch.sort(scaled, dim=-1, descending=True)
    cumulative = torch.softmax(scaled, dim=-1).cumsum_(-1)
    # The last kept token: the first whose cumulative mass reaches top_p of the total (the
    # total, not 1, so rounding can never push it past the last token with any mass).
    last = torch.searchsorted(cumulative, cumulative[:, -1:] * settings.top_p)
    kept_mass = cumulative.gather(1, last)
    draw = torch.rand(kept_mass.shape, generator=generator).mul_(kept_mass)
    chosen = torch.minimum(torch.searchsorted(cumulative, draw, right=True), last)
    return (chosen if order is None else order.gather(1, chosen))[:, 0]


class Continuation:
    """Sample `batch` continuations of one prefix ([style, events...]) with a KV cache."""

    def __init__(
        self,
        model: MusicTransformer,
        prefix: Sequence[int],
        batch: int,
        settings: SamplingSettings,
        seed: int,
    ):
        if not prefix or prefix[0] < STYLE:
            raise ValueError("a prefix starts with a style token")
        self.model = model
        self.window = model.config.max_len
        self.style = prefix[0]
        # Leave room to generate before the first context restart.
        keep = self.window - max(1, self.window // 4)
        self.history: list[list[int]] = [list(prefix[1:][-(keep - 1) :]) for _ in range(batch)]
        self.truncated = len(prefix) - 1 - len(self.history[0])
        self.settings = settings
        self.generator = torch.Generator().manual_seed(seed)
        self.batch = batch
        self.restarts = 0
        # Additive mask per stream: the banned tokens, and with well_formed the NOTE_OFFs of
        # silent pitches (all of them at first: the primer's notes are all closed) and the
        # NOTE_ONs of sounding ones, kept up to date token by token.
        # With key_strength, the NOTE_ONs also carry the pull towards the primer's pitch
        # classes (from the whole prefix, even the part cut off the context).
        vocab = model.config.vocab_size
        self.key = key_bias(prefix, settings.key_strength, vocab)
        # The renormalisation costs two logsumexps a step: only when the prior is on.
        self.renormalise = settings.key_keeps_density and bool(self.key.any())
        self.bias = (banned_bias(vocab) + self.key).repeat(batch, 1)
        if settings.well_formed:
            self.bias[:, NOTE_OFF:TIME_SHIFT] = float("-inf")
        # The hold limit in 10 ms steps; per stream, the time now and each sounding note's
        # onset (in steps since the continuation began).
        self.hold = None
        if settings.well_formed and settings.max_hold_seconds is not None:
            self.hold = max(1, round(settings.max_hold_seconds / STEP_SECONDS))
        self.now = [0] * batch
        self.onsets: list[dict[int, int]] = [{} for _ in range(batch)]
        self.closed: list[set[int]] = [set() for _ in range(batch)]  # until the next shift
        # With grammar: pitches struck at this instant (their NOTE_OFF waits for a shift),
        # and whether the last token was a velocity event.
        self.struck: list[set[int]] = [set() for _ in range(batch)]
        self.after_velocity = [False] * batch

    def _held_bias(self) -> torch.Tensor:
        """The mask for this step: `bias`, plus the hold limit where a note nears it."""
        if self.hold is None:
            return self.bias
        bias = None
        for row, onsets in enumerate(self.onsets):
            if not onsets:
                continue
            left = self.hold - (self.now[row] - min(onsets.values()))
            if left >= SHIFT_STEPS:
                continue
            if bias is None:
                bias = self.bias.clone()
            if left > 0:  # shifts of `left` steps or fewer only (token k shifts k+1 steps)
                bias[row, TIME_SHIFT + left : TIME_SHIFT + SHIFT_STEPS] = float("-inf")
            else:  # due: nothing but the NOTE_OFF of a note at its limit
                due = [p for p, t in onsets.items() if self.now[row] - t >= self.hold]
                bias[row] = float("-inf")
                bias[row, [NOTE_OFF + p for p in due]] = 0.0
                self.closed[row].update(due)
        if any(self.closed):
            # A note just closed at its limit may not be struck again at once (the network
            # would restrike it to keep holding it).
            bias = self.bias.clone() if bias is None else bias
            for row, pitches in enumerate(self.closed):
                bias[row, [NOTE_ON + p for p in pitches]] = float("-inf")
        return self.bias if bias is None else bias

    def _track(self, row: int, token: int) -> None:
        if not self.settings.well_formed:
            return
        grammar = self.settings.grammar
        if grammar and self.after_velocity[row] != (VELOCITY <= token < VELOCITY + VELOCITY_BINS):
            self.after_velocity[row] = not self.after_velocity[row]
            ban = float("-inf") if self.after_velocity[row] else 0.0
            self.bias[row, VELOCITY : VELOCITY + VELOCITY_BINS] = ban
        if token >= TIME_SHIFT:
            if token < TIME_SHIFT + SHIFT_STEPS:
                self.now[row] += token - TIME_SHIFT + 1
                self.closed[row].clear()
                for pitch in self.struck[row]:  # sounding since before this shift
                    self.bias[row, NOTE_OFF + pitch] = 0.0
                self.struck[row].clear()
            return
        pitch = token % 128
        opened = token < NOTE_OFF
        if opened:
            self.onsets[row][pitch] = self.now[row]
            if grammar:
                self.struck[row].add(pitch)
        else:
            self.onsets[row].pop(pitch, None)
        self.bias[row, NOTE_ON + pitch] = float("-inf") if opened else self.key[NOTE_ON + pitch]
        closable = opened and not grammar
        self.bias[row, NOTE_OFF + pitch] = 0.0 if closable else float("-inf")

    def _prime(self) -> torch.Tensor:
        self.cache = KVCache(self.model.config, self.batch)
        if self.restarts:
            tail = self.window // 2 - 1
            rows = [[self.style] + h[-tail:] for h in self.history]
        else:
            rows = [[self.style] + h for h in self.history]
        return prefill(self.model, torch.tensor(rows, dtype=torch.long), self.cache)

    def stream(self) -> Iterator[list[int]]:
        """Yield the next token of every sequence, forever (the caller decides when to stop)."""
        # inference_mode is entered per step, never held across a yield: a suspended generator
        # would otherwise leave the caller's thread in inference mode.
        tokens = None
        while True:
            with torch.inference_mode():
                if tokens is None:
                    logits = self._prime()
                elif self.cache.length >= self.window:
                    self.restarts += 1
                    logits = self._prime()
                else:
                    logits = step(tokens, self.cache)
                tokens = sample_next(
                    logits,
                    self.settings,
                    self.generator,
                    self._held_bias(),
                    self.key if self.renormalise else None,
                )
                values = tokens.tolist()
            for row, token in enumerate(values):
                self.history[row].append(token)
                self._track(row, token)
            yield values


def recompute_stream(
    model: MusicTransformer, prefix: Sequence[int], settings: SamplingSettings, seed: int
) -> Iterator[int]:
    """The baseline way to sample (as public implementations do): run the whole prefix (up to
    the window) through the model for every new token, no cache. For benchmarks and tests."""
    generator = torch.Generator().manual_seed(seed)
    window = model.config.max_len
    style, history = prefix[0], list(prefix[1:])
    while True:
        with torch.inference_mode():
            context = [style] + history[-(window - 1) :]
            logits = model(torch.tensor([context], dtype=torch.long))[:, -1]
            token = int(sample_next(logits, settings, generator)[0])
        history.append(token)
        yield token
