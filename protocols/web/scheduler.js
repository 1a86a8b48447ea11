// Note playback that follows the page's transport while it plays: tempo changes and moves of
// the position take effect within a look-ahead window ("A Tale of Two Clocks": a coarse timer
// reads the transport clock every INTERVAL_MS and schedules, sample-exactly on the
// AudioContext clock, only the notes that start in the next LOOKAHEAD_S). Started while the
// transport plays, a clip's beat 0 is the next bar line; while it is stopped, the clip runs
// on a clock of its own from now, still at the panel's tempo.

import { contextTimeAt, nextBarLine, playVoice } from "./synth.js";

export const LOOKAHEAD_S = 0.12;
export const INTERVAL_MS = 25;

// A clip's position in its own beats: the transport's beats since the bar line it started on,
// or, with the transport stopped, beats counted on the AudioContext clock at the current tempo.
export class ClipClock {
  constructor(context, transport) {
    this.context = context;
    this.transport = transport;
    this.following = Boolean(transport?.state?.playing);
    if (this.following) {
      const bar = nextBarLine(context, transport);
      this.origin = bar.beat; // transport beat of the clip's beat 0
      this.startedAt = bar.when; // when that is at the tempo of the moment
    } else {
      const headroom = 0.05;
      this.beat = (-headroom * this.tempo) / 60;
      this.readAt = context.currentTime;
      this.startedAt = this.readAt + headroom;
    }
  }

  get tempo() {
    return this.transport?.state?.tempo ?? 120;
  }

  // True once a clip that followed the transport has lost it (the transport stopped).
  get lost() {
    return this.following && !this.transport.state?.playing;
  }

  // {beat, now, tempo}: the clip's beat at AudioContext time `now` (following the transport:
  // the context time heard at this moment, so a note sounds when the transport reaches it).
  read() {
    const { tempo } = this;
    if (this.following) {
      const now = contextTimeAt(this.context, performance.now());
      return { beat: this.transport.currentBeat() - this.origin, now, tempo };
    }
    const now = this.context.currentTime;
    this.beat += ((now - this.readAt) * tempo) / 60;
    this.readAt = now;
    return { beat: this.beat, now, tempo };
  }
}

// Plays [pitch, velocity, start beat, duration beats] notes on a ClipClock. `log` keeps each
// scheduled note ({beat, at, ideal, tempo}; `at` later than `ideal` only when a timer tick
// came late) for the page's tests and for a person at the console.
export class NotePlayer {
  constructor(context, transport, notes, onEnd = () => {}) {
    this.context = context;
    this.clock = new ClipClock(context, transport);
    this.notes = [...notes].sort((a, b) => a[2] - b[2]);
    this.endBeat = this.notes.reduce((end, [, , start, length]) => Math.max(end, start + length), 0);
    this.onEnd = onEnd;
    this.next = 0;
    this.voices = [];
    this.soundsUntil = 0;
    this.log = [];
    this.output = context.createGain();
    this.output.gain.value = 0.25;
    this.output.connect(context.destination);
    this.timer = setInterval(() => this.tick(), INTERVAL_MS);
    this.tick();
  }

  get startedAt() {
    return this.clock.startedAt;
  }

  // The clip's beat now (for the playhead).
  beat() {
    return this.clock.read().beat;
  }

  tick() {
    if (!this.timer) return;
    if (this.clock.lost) {
      this.stop();
      return;
    }
    const { beat, now, tempo } = this.clock.read();
    const secondsPerBeat = 60 / tempo;
    const horizon = beat + LOOKAHEAD_S / secondsPerBeat;
    while (this.next < this.notes.length && this.notes[this.next][2] < horizon) {
      const [pitch, velocity, start, length] = this.notes[this.next++];
      if (start + length <= beat) continue; // passed over (the position jumped ahead)
      const ideal = now + (start - beat) * secondsPerBeat;
      const at = Math.max(ideal, this.context.currentTime); // a late tick: as soon as it can
      const off = Math.max(at + 0.05, ideal + length * secondsPerBeat);
      const voice = playVoice(this.context, this.output, pitch, velocity, at, off);
      this.voices.push(...voice.oscillators);
      this.soundsUntil = Math.max(this.soundsUntil, voice.end);
      this.log.push({ beat: start, at, ideal, tempo });
    }
    if (this.next >= this.notes.length && beat >= this.endBeat && now >= this.soundsUntil) {
      this.stop();
    }
  }

  stop() {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = null;
    this.voices.forEach((voice) => { try { voice.stop(); } catch { /* already stopped */ } });
    this.output.disconnect();
    this.onEnd();
  }
}
