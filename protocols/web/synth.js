// Playback in the page: one shared AudioContext, a small synth voice for notes (two detuned
// oscillators through a low-pass and an envelope), the transport's next bar line, and decoded
// WAVs as AudioBuffers. Notes are scheduled against the transport by scheduler.js.

let shared = null;

export function audioContext() {
  if (!shared) shared = new AudioContext();
  if (shared.state === "suspended") shared.resume();
  return shared;
}

// The transport beat of the next bar line at least `headroom` seconds ahead (so the first
// sound can still be scheduled on it), and the AudioContext time it falls on at today's tempo.
export function nextBarLine(context, transport, headroom = 0.01) {
  const { tempo } = transport.state;
  const beat = transport.currentBeat();
  const now = context.currentTime;
  const perBar = transport.beatsPerBar;
  let next = Math.ceil((beat + 1e-6) / perBar) * perBar;
  if (((next - beat) * 60) / tempo < headroom) next += perBar;
  return { beat: next, when: now + ((next - beat) * 60) / tempo };
}

// When to start an audio render (a fixed-rate buffer) so its start falls on the transport's
// next bar line while it plays; at once (plus a little scheduling headroom) while it is stopped.
export function startTime(context, transport) {
  if (!transport?.state?.playing) return context.currentTime + 0.05;
  return nextBarLine(context, transport).when;
}

function frequency(pitch) {
  return 440 * 2 ** ((pitch - 69) / 12);
}

// One synth note from `on` to `off` (AudioContext times) into `output`; returns its
// oscillators (to stop early) and when its release has died away.
export function playVoice(context, output, pitch, velocity, on, off) {
  const envelope = context.createGain();
  const peak = 0.15 + (velocity / 127) * 0.5;
  envelope.gain.setValueAtTime(0, on);
  envelope.gain.linearRampToValueAtTime(peak, on + 0.01);
  envelope.gain.exponentialRampToValueAtTime(peak * 0.5, on + 0.25);
  envelope.gain.setValueAtTime(peak * 0.5, off);
  envelope.gain.exponentialRampToValueAtTime(0.001, off + 0.12);
  const filter = context.createBiquadFilter();
  filter.frequency.value = Math.min(8000, frequency(pitch) * 6);
  filter.connect(envelope).connect(output);
  const oscillators = [];
  for (const [type, detune] of [["sawtooth", -6], ["triangle", 6]]) {
    const oscillator = context.createOscillator();
    oscillator.type = type;
    oscillator.frequency.value = frequency(pitch);
    oscillator.detune.value = detune;
    oscillator.connect(filter);
    oscillator.start(on);
    oscillator.stop(off + 0.15);
    oscillators.push(oscillator);
  }
  return { oscillators, end: off + 0.15 };
}

// A decoded WAV ({sampleRate, channelData}) as an AudioBuffer, without a decoder round trip.
export function toAudioBuffer(context, wav) {
  const frames = wav.channelData[0]?.length ?? 0;
  const buffer = context.createBuffer(wav.channelData.length, Math.max(1, frames), wav.sampleRate);
  wav.channelData.forEach((data, channel) => buffer.copyToChannel(data, channel));
  return buffer;
}
