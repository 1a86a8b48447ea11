// Playback in the page: one shared AudioContext, a small synth voice for notes (two detuned
// oscillators through a low-pass and an envelope), the transport's next bar line, and decoded
// WAVs as AudioBuffers. Notes are scheduled against the transport by scheduler.js.

let shared = null;

export function audioContext() {
  if (!shared) shared = new AudioContext();
  if (shared.state === "suspended") shared.resume();
  return shared;
}

// The AudioContext time whose sound leaves the speakers at performance.now() time `ms`:
// the output timestamp pairs the two clocks (and so allows for the output latency), where
// currentTime alone runs ahead of the speakers and moves in blocks.
export function contextTimeAt(context, ms) {
  const stamp = context.getOutputTimestamp?.();
  if (stamp?.performanceTime > 0) return stamp.contextTime + (ms - stamp.performanceTime) / 1000;
  return context.currentTime + (ms - performance.now()) / 1000;
}

// The transport beat of the next bar line that can still be scheduled (`headroom` seconds
// ahead of the audio clock), and the AudioContext time at which it is heard at today's tempo.
export function nextBarLine(context, transport, headroom = 0.01) {
  const perBar = transport.beatsPerBar;
  let next = Math.ceil((transport.currentBeat() + 1e-6) / perBar) * perBar;
  let when = contextTimeAt(context, transport.timeOfBeat(next));
  if (when < context.currentTime + headroom) {
    next += perBar;
    when = contextTimeAt(context, transport.timeOfBeat(next));
  }
  return { beat: next, when };
}

// When to start an audio render (a fixed-rate buffer): {when, beat}, its start on the
// transport's next bar line (that beat) while it plays; at once (plus a little scheduling
// headroom, beat null) while it is stopped.
export function startTime(context, transport) {
  if (!transport?.state?.playing) return { when: context.currentTime + 0.05, beat: null };
  return nextBarLine(context, transport);
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
