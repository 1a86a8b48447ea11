"""The Transformer: skewing equals the textbook relative attention, the KV cache gives the same
logits as recomputing the prefix, and sampling is seeded and honours top-k / top-p."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch

from plugins.music_transformer.events import END, PAD, STYLE, VOCAB_SIZE, style_token
from plugins.music_transformer.generate import (
    Continuation,
    SamplingSettings,
    recompute_stream,
    sample_next,
)
from plugins.music_transformer.incremental import KVCache, prefill, step
from plugins.music_transformer.model import ModelConfig, MusicTransformer, skew
from tests.plugins.music_transformer.conftest import TINY


def test_skew_puts_each_relative_distance_under_its_key() -> None:
    length = 5
    # column r of the input holds distance L-1-r; encode the distance itself as the value
    rel_logits = torch.tensor([[float(length - 1 - r) for r in range(length)]] * length)
    skewed = skew(rel_logits)
    for i in range(length):
        for j in range(i + 1):
            assert skewed[i, j] == i - j


def test_relative_attention_matches_the_quadratic_memory_formula(
    tiny_model: MusicTransformer,
) -> None:
    attention = tiny_model.blocks[0].attention
    x = torch.randn(2, 7, TINY.d_model)
    mask = torch.full((7, 7), float("-inf")).triu(1)
    q, k, v = attention._split(x)
    # Shaw et al.: gather an (L, L, D) tensor of embeddings, one per (query, key) pair
    distances = (torch.arange(7)[:, None] - torch.arange(7)[None, :]).clamp(min=0)
    gathered = attention.rel[:, TINY.max_len - 1 - distances]  # (H, L, L, D)
    srel = torch.einsum("bhid,hijd->bhij", q, gathered)
    weights = torch.softmax((q @ k.transpose(-1, -2) + srel) / math.sqrt(attention.head) + mask, -1)
    expected = attention.out((weights @ v).transpose(1, 2).reshape(2, 7, TINY.d_model))
    torch.testing.assert_close(attention(x, mask), expected, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("relative", [True, False])
def test_kv_cache_gives_the_logits_of_a_full_recompute(relative: bool) -> None:
    torch.manual_seed(1)
    config = ModelConfig(**{**TINY.as_dict(), "relative": relative})
    model = MusicTransformer(config).eval()
    tokens = torch.randint(0, 356, (3, 40))
    with torch.inference_mode():
        full = model(tokens)
        cache = KVCache(config, 3)
        logits = [prefill(model, tokens[:, :12], cache)]
        logits += [step(tokens[:, i], cache) for i in range(12, 40)]
    torch.testing.assert_close(torch.stack(logits[:-1], 1), full[:, 11:39], atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(logits[-1], model(tokens[:, :41])[:, -1], atol=1e-4, rtol=1e-4)


def test_a_cache_steps_with_the_weights_of_its_prefill_time(tiny_model: MusicTransformer) -> None:
    """The step's packed weights are reused across caches, but never once a weight changed."""
    tokens = torch.randint(0, 356, (1, 10))
    with torch.inference_mode():
        prefill(tiny_model, tokens[:, :5], KVCache(TINY, 1))  # packs the current weights
    with torch.no_grad():
        tiny_model.blocks[1].ff[0].weight.mul_(3.0)  # an optimiser step updates in place
    with torch.inference_mode():
        cache = KVCache(TINY, 1)
        prefill(tiny_model, tokens[:, :5], cache)
        stepped = step(tokens[:, 5], cache)
        torch.testing.assert_close(stepped, tiny_model(tokens[:, :6])[:, -1], atol=1e-4, rtol=1e-4)


def test_relative_and_absolute_models_have_the_same_size_up_to_positions() -> None:
    relative = MusicTransformer(TINY)
    absolute = MusicTransformer(ModelConfig(**{**TINY.as_dict(), "relative": False}))
    n_rel = sum(p.numel() for p in relative.parameters())
    n_abs = sum(p.numel() for p in absolute.parameters())
    # relative: one (max_len, head) table per layer and head; absolute: one (max_len, d) table
    assert (
        n_rel - TINY.n_layers * TINY.max_len * TINY.d_model == n_abs - TINY.max_len * TINY.d_model
    )


def test_model_refuses_sequences_longer_than_its_window(tiny_model: MusicTransformer) -> None:
    with pytest.raises(ValueError, match="exceeds max_len"):
        tiny_model(torch.zeros(1, TINY.max_len + 1, dtype=torch.long))


def test_cached_sampling_equals_recompute_sampling_with_the_same_seed(
    tiny_model: MusicTransformer,
) -> None:
    prefix = [style_token("bach")] + list(range(60, 80))
    settings = SamplingSettings(temperature=1.0, top_k=0, top_p=0.9)
    cached = Continuation(tiny_model, prefix, 1, settings, seed=7).stream()
    recomputed = recompute_stream(tiny_model, prefix, settings, seed=7)
    # up to the first context restart (window 64 - 21 prefix tokens) both see the same context
    steps = TINY.max_len - len(prefix)
    assert [next(cached)[0] for _ in range(steps)] == [next(recomputed) for _ in range(steps)]


def test_same_seed_same_continuation_and_variations_differ(tiny_model: MusicTransformer) -> None:
    prefix = [style_token("any"), 60, 300, 188]
    settings = SamplingSettings()

    def sample(seed: int, batch: int) -> list[list[int]]:
        stream = Continuation(tiny_model, prefix, batch, settings, seed).stream()
        return [next(stream) for _ in range(150)]  # crosses two context restarts

    assert sample(3, 2) == sample(3, 2)
    assert sample(3, 2) != sample(4, 2)
    columns = list(zip(*sample(3, 2), strict=True))
    assert columns[0] != columns[1]


def test_sampling_never_emits_pad_end_or_style_and_honours_top_k_and_top_p() -> None:
    generator = torch.Generator().manual_seed(0)
    logits = torch.zeros(64, VOCAB_SIZE)
    logits[:, PAD] = logits[:, END] = logits[:, STYLE] = 50.0
    logits[:, 10] = 10.0  # p = 0.72 after the bans
    logits[:, 11] = 9.0  # p = 0.27
    for settings, allowed in (
        (SamplingSettings(top_k=2), {10, 11}),
        (SamplingSettings(top_p=0.5), {10}),
    ):
        tokens = set(sample_next(logits, settings, generator).tolist())
        assert tokens <= allowed and tokens
    free = set(sample_next(logits, SamplingSettings(), generator).tolist())
    assert not free & {PAD, END, STYLE}


@pytest.mark.parametrize(
    "settings",
    [SamplingSettings(), SamplingSettings(temperature=0.7, top_p=0.8), SamplingSettings(top_k=6)],
)
def test_sampling_frequencies_follow_the_truncated_softmax(settings: SamplingSettings) -> None:
    torch.manual_seed(0)
    logits = torch.randn(VOCAB_SIZE) * 2
    logits[:20] += 6.0  # a few likely tokens, as after training
    draws = 40_000
    tokens = sample_next(logits.expand(draws, -1), settings, torch.Generator().manual_seed(1))
    frequencies = torch.bincount(tokens, minlength=VOCAB_SIZE).float() / draws
    # the distribution written out the slow way: bans, temperature, top-k, then top-p
    scaled = logits.clone()
    scaled[[PAD, END, *range(STYLE, VOCAB_SIZE)]] = float("-inf")
    scaled /= settings.temperature
    if settings.top_k:
        scaled[scaled < torch.topk(scaled, settings.top_k).values[-1]] = float("-inf")
    probabilities = torch.softmax(scaled, -1)
    ordered, order = torch.sort(probabilities, descending=True)
    mass_before = 0.0
    for probability, token in zip(ordered.tolist(), order.tolist(), strict=True):
        if mass_before >= settings.top_p:
            probabilities[token] = 0.0
        mass_before += probability
    probabilities /= probabilities.sum()
    assert set(torch.nonzero(frequencies).flatten().tolist()) <= set(
        torch.nonzero(probabilities).flatten().tolist()
    )
    assert 0.5 * (frequencies - probabilities).abs().sum() < 0.02  # total variation


def test_an_abandoned_stream_leaves_autograd_alone(tiny_model: MusicTransformer) -> None:
    stream = Continuation(tiny_model, [style_token("any")], 1, SamplingSettings(), 0).stream()
    next(stream)
    assert torch.is_grad_enabled() and not torch.is_inference_mode_enabled()


def test_well_formed_sampling_only_closes_sounding_notes(tiny_model: MusicTransformer) -> None:
    from plugins.music_transformer.events import decode

    settings = SamplingSettings(temperature=1.5, well_formed=True)
    stream = Continuation(tiny_model, [style_token("any")], 3, settings, seed=0).stream()
    rows = list(zip(*[next(stream) for _ in range(300)], strict=True))
    for row in rows:
        stats = decode(list(row)).stats
        assert stats.impossible == 0 and stats.note_ons > 0
    free = Continuation(tiny_model, [style_token("any")], 3, SamplingSettings(1.5), 0).stream()
    free_rows = list(zip(*[next(free) for _ in range(300)], strict=True))
    assert sum(decode(list(row)).stats.impossible for row in free_rows) > 0  # the mask matters


def test_key_bias_is_the_log_of_the_primers_duration_weighted_pitch_classes() -> None:
    from plugins.music_transformer.events import NOTE_OFF, NOTE_ON, TIME_SHIFT
    from plugins.music_transformer.generate import KEY_FLOOR, key_bias

    # C3 struck three times for 1 s, E4 1 s, G4 1 s, C5 1 s: C sounds 4 s of 6
    def note(pitch: int, steps: int) -> list[int]:
        return [NOTE_ON + pitch, TIME_SHIFT + steps - 1, NOTE_OFF + pitch]

    prefix = [style_token("any")] + note(48, 100) * 3
    prefix += note(64, 100) + note(67, 100) + note(72, 100)
    bias = key_bias(prefix, 1.5, VOCAB_SIZE)
    share = {0: 4 / 6, 4: 1 / 6, 7: 1 / 6}
    for pitch in (36, 61, 64, 67, 72, 127):
        expected = 1.5 * math.log(share.get(pitch % 12, 0.0) + KEY_FLOOR)
        assert bias[NOTE_ON + pitch].item() == pytest.approx(expected, rel=1e-5)
    assert (bias[NOTE_OFF:] == 0).all()
    # by duration, not by count: one long C outweighs four short Ds
    weighted = key_bias([style_token("any")] + note(60, 100) + note(62, 10) * 4, 1.0, VOCAB_SIZE)
    assert weighted[NOTE_ON + 60] > weighted[NOTE_ON + 62]
    assert (key_bias(prefix, 0.0, VOCAB_SIZE) == 0).all()
    assert (key_bias([style_token("any")], 1.0, VOCAB_SIZE) == 0).all()


@pytest.mark.parametrize("strength", [-0.5, 4.5, float("nan"), float("inf")])
def test_a_bad_key_strength_is_refused_with_the_allowed_range(
    tiny_model: MusicTransformer, strength: float
) -> None:
    settings = SamplingSettings(key_strength=strength)
    with pytest.raises(ValueError, match="key_strength must be") as raised:
        Continuation(tiny_model, [style_token("any"), 60], 1, settings, seed=0)
    assert not math.isfinite(strength) or "between 0 (off) and 4" in str(raised.value)


def test_key_strength_zero_is_the_unbiased_sampler_exactly(tiny_model: MusicTransformer) -> None:
    from plugins.music_transformer.generate import banned_bias

    prefix = [style_token("bach")] + list(range(60, 80))
    # the cached sampler with the prior off draws what the recompute baseline (which has no
    # key prior code at all) draws, token for token
    settings = SamplingSettings(top_p=0.9, key_strength=0.0)
    cached = Continuation(tiny_model, prefix, 1, settings, seed=7).stream()
    recomputed = recompute_stream(tiny_model, prefix, settings, seed=7)
    steps = TINY.max_len - len(prefix)
    assert [next(cached)[0] for _ in range(steps)] == [next(recomputed) for _ in range(steps)]
    # and the renormalisation with a zero prior changes no draw
    torch.manual_seed(0)
    logits = torch.randn(64, VOCAB_SIZE) * 3
    zero = torch.zeros(VOCAB_SIZE)
    for seed in range(5):
        plain = sample_next(logits, settings, torch.Generator().manual_seed(seed))
        keyed = sample_next(
            logits, settings, torch.Generator().manual_seed(seed), banned_bias(VOCAB_SIZE), zero
        )
        assert torch.equal(plain, keyed)


def test_the_renormalised_prior_keeps_the_networks_note_on_mass() -> None:
    from plugins.music_transformer.events import NOTE_OFF, NOTE_ON
    from plugins.music_transformer.generate import banned_bias, key_bias, note_mass_shift

    torch.manual_seed(1)
    prefix = [style_token("any")] + [NOTE_ON + 60, 300, NOTE_OFF + 60, NOTE_ON + 67, 280]
    key = key_bias(prefix, 2.0, VOCAB_SIZE)
    mask = banned_bias(VOCAB_SIZE).repeat(3, 1)
    mask[2, NOTE_ON:NOTE_OFF] = float("-inf")  # a row where no note may start
    logits = torch.randn(3, VOCAB_SIZE) * 2
    without = torch.softmax(logits + mask, -1)
    scaled = logits + mask + key
    scaled[:, NOTE_ON:NOTE_OFF] += note_mass_shift(scaled, key)[:, None]
    shifted = torch.softmax(scaled, -1)
    ons = slice(NOTE_ON, NOTE_OFF)
    assert torch.allclose(shifted[:, ons].sum(-1), without[:, ons].sum(-1), atol=1e-6)
    # every other event keeps its probability; among the pitches, the product of experts
    assert torch.allclose(shifted[:, NOTE_OFF:], without[:, NOTE_OFF:], atol=1e-6)
    ratio = shifted[0, NOTE_ON + 72] / shifted[0, NOTE_ON + 73]
    expected = without[0, NOTE_ON + 72] / without[0, NOTE_ON + 73] * torch.exp(key[72] - key[73])
    assert ratio.item() == pytest.approx(expected.item(), rel=1e-4)
    assert torch.isfinite(shifted[2]).all() and shifted[2, ons].sum() == 0


def test_a_strong_key_prior_keeps_out_of_key_pitch_classes_rarer(
    tiny_model: MusicTransformer,
) -> None:
    from plugins.music_transformer.events import NOTE_OFF, NOTE_ON, TIME_SHIFT, decode

    # a C major triad, each note a beat: C, E and G are in the key, the other 9 classes not
    prefix = [style_token("any")]
    for pitch in (60, 64, 67, 72):
        prefix += [NOTE_ON + pitch, TIME_SHIFT + 49, NOTE_OFF + pitch]

    def sampled(strength: float, density: bool = True) -> tuple[float, int]:
        settings = SamplingSettings(
            temperature=1.5, well_formed=True, key_strength=strength, key_keeps_density=density
        )
        # 40 events: the untrained network seldom closes a note, and once every C, E and G
        # of the keyboard sounds, the mask leaves only the other classes to strike
        stream = Continuation(tiny_model, prefix, 16, settings, seed=0).stream()
        rows = list(zip(*[next(stream) for _ in range(40)], strict=True))
        assert all(decode(list(row)).stats.impossible == 0 for row in rows)
        notes = [n for row in rows for n in decode(list(row)).notes]
        out_of_key = sum(n.pitch % 12 not in (0, 4, 7) for n in notes) / max(1, len(notes))
        return out_of_key, len(notes)

    off, notes_off = sampled(0.0)
    strong, notes_strong = sampled(2.0)
    assert off > 0.5 and strong < off / 4  # untrained on keys: the prior does the work
    # renormalised, the prior changes which pitches, not how many notes; the plain product
    # of experts thins them
    assert 0.75 * notes_off < notes_strong < 1.33 * notes_off
    _, notes_plain = sampled(2.0, density=False)
    assert notes_plain < 0.75 * notes_strong


def _breaks_the_grammar(row: list[int]) -> int:
    """Zero-length notes (a NOTE_OFF right after its own NOTE_ON, no time between) and two
    velocity events in a row: neither occurs in the corpus's encoding."""
    from plugins.music_transformer.events import NOTE_OFF, NOTE_ON, TIME_SHIFT, VELOCITY

    count, struck = 0, set()
    for before, token in zip(row, row[1:], strict=False):
        count += VELOCITY <= before < VELOCITY + 32 and VELOCITY <= token < VELOCITY + 32
        if NOTE_ON <= token < NOTE_OFF:
            struck.add(token)
        elif NOTE_OFF <= token < TIME_SHIFT:
            count += token - NOTE_OFF in struck
        elif TIME_SHIFT <= token < VELOCITY:
            struck.clear()
    return count


def test_well_formed_sampling_keeps_the_corpus_grammar(tiny_model: MusicTransformer) -> None:
    settings = SamplingSettings(temperature=1.5, well_formed=True)
    stream = Continuation(tiny_model, [style_token("any")], 3, settings, seed=0).stream()
    rows = list(zip(*[next(stream) for _ in range(400)], strict=True))
    assert all(_breaks_the_grammar(list(row)) == 0 for row in rows)
    loose = replace(settings, grammar=False)
    stream = Continuation(tiny_model, [style_token("any")], 3, loose, seed=0).stream()
    rows = list(zip(*[next(stream) for _ in range(400)], strict=True))
    assert sum(_breaks_the_grammar(list(row)) for row in rows) > 0  # the mask matters


def test_a_struck_note_closes_only_after_time_passes(tiny_model: MusicTransformer) -> None:
    from plugins.music_transformer.events import NOTE_OFF, NOTE_ON, TIME_SHIFT, VELOCITY

    for grammar in (True, False):
        settings = SamplingSettings(well_formed=True, grammar=grammar)
        continuation = Continuation(tiny_model, [style_token("any")], 1, settings, 0)
        continuation._track(0, VELOCITY + 3)
        velocity_banned = continuation.bias[0, VELOCITY + 5] == float("-inf")
        continuation._track(0, NOTE_ON + 76)
        assert continuation.bias[0, VELOCITY + 5] == 0.0
        assert continuation.bias[0, NOTE_ON + 76] == float("-inf")
        closable_at_once = continuation.bias[0, NOTE_OFF + 76] == 0.0
        assert velocity_banned == grammar and closable_at_once != grammar
        continuation._track(0, TIME_SHIFT + 4)
        assert continuation.bias[0, NOTE_OFF + 76] == 0.0
