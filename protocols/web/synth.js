// Playback in the page: one shared AudioContext, a small synth for notes (two detuned
// oscillators through a low-pass and an envelope) and sample playback for decoded WAVs.
// Start times come from the page's transport, so playback lands on its bar lines.

let shared = null;

export function audioContext() {
  if (!shared) shared = new AudioContext();
  if (shared.state === "suspended") shared.resume();
  return shared;
}

// When to start so beat 0 of a clip falls on the transport's next bar line while it plays;
// at once (plus a little scheduling headroom) while it is stopped.
export function startTime(context, transport) {
  const headroom = 0.05;
  const state = transport?.state;
  if (!state?.playing) return context.currentTime + headroom;
  const beat = transport.currentBeat();
  const perBar = transport.beatsPerBar;
  const next = Math.ceil((beat + 1e-6) / perBar) * perBar;
  return context.currentTime + Math.max(headroom, ((next - beat) * 60) / state.tempo);
}

function frequency(pitch) {
  return 440 * 2 ** ((pitch - 69) / 12);
}

// Plays notes at `tempo` from `when` (AudioContext time); returns {stop(), end} in seconds.
export function playNotes(context, notes, tempo, when) {
  const secondsPerBeat = 60 / tempo;
  const output = context.createGain();
  output.gain.value = 0.25;
  output.connect(context.destination);
  const voices = [];
  let end = when;
  for (const [pitch, velocity, start, duration] of notes) {
    const on = when + start * secondsPerBeat;
    const off = on + Math.max(0.05, duration * secondsPerBeat);
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
    for (const [type, detune] of [["sawtooth", -6], ["triangle", 6]]) {
      const oscillator = context.createOscillator();
      oscillator.type = type;
      oscillator.frequency.value = frequency(pitch);
      oscillator.detune.value = detune;
      oscillator.connect(filter);
      oscillator.start(on);
      oscillator.stop(off + 0.15);
      voices.push(oscillator);
    }
    end = Math.max(end, off + 0.15);
  }
  return {
    end,
    stop() {
      voices.forEach((voice) => { try { voice.stop(); } catch { /* already stopped */ } });
      output.disconnect();
    },
  };
}

// A decoded WAV ({sampleRate, channelData}) as an AudioBuffer, without a decoder round trip.
export function toAudioBuffer(context, wav) {
  const frames = wav.channelData[0]?.length ?? 0;
  const buffer = context.createBuffer(wav.channelData.length, Math.max(1, frames), wav.sampleRate);
  wav.channelData.forEach((data, channel) => buffer.copyToChannel(data, channel));
  return buffer;
}
