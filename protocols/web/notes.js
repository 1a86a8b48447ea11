// Notes as the wire carries them: [pitch, velocity, start_beat, duration_beat] groups.
// Parsing text a person typed, and writing notes as a Standard MIDI File for download.

export const EXAMPLE_NOTES = "60 100 0 1\n64 90 1 1\n67 90 2 1\n72 100 3 1";

// "60 100 0 1, 64 90 1 1" or one note per line -> [[60, 100, 0, 1], ...].
// Text that is not numbers at all is taken as a MIDI file path (the server checks it).
export function parseNotesText(text) {
  const trimmed = text.trim();
  if (trimmed === "") return { notes: [] };
  const tokens = trimmed.split(/[\s,;]+/).filter((t) => t !== "");
  const numbers = tokens.map(Number);
  if (numbers.every((n) => Number.isNaN(n))) return { path: trimmed };
  const bad = tokens.find((t) => Number.isNaN(Number(t)));
  if (bad !== undefined) {
    return { error: `"${bad}" is not a number; write notes as pitch velocity start duration` };
  }
  if (numbers.length % 4 !== 0) {
    return {
      error: `${numbers.length} numbers is not a whole number of notes: ` +
        "each note is 4 numbers, pitch velocity start_beat duration_beat",
    };
  }
  const notes = [];
  for (let i = 0; i < numbers.length; i += 4) notes.push(numbers.slice(i, i + 4));
  return { notes };
}

function variableLength(value) {
  const bytes = [value & 0x7f];
  for (let rest = value >> 7; rest > 0; rest >>= 7) bytes.unshift((rest & 0x7f) | 0x80);
  return bytes;
}

function chunk(type, body) {
  const n = body.length;
  return [...type].map((c) => c.charCodeAt(0))
    .concat([(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff], body);
}

// A format-0 SMF: 480 ticks per beat, one tempo event, note on/off pairs sorted by time.
export function notesToMidi(notes, tempo = 120, ticksPerBeat = 480) {
  const events = [];
  for (const [pitch, velocity, start, duration] of notes) {
    const on = Math.round(start * ticksPerBeat);
    const off = Math.max(on + 1, Math.round((start + duration) * ticksPerBeat));
    events.push({ tick: on, order: 1, bytes: [0x90, pitch & 0x7f, velocity & 0x7f] });
    events.push({ tick: off, order: 0, bytes: [0x80, pitch & 0x7f, 0] });
  }
  // Offs before ons at the same tick, so a repeated pitch is not cut short.
  events.sort((a, b) => a.tick - b.tick || a.order - b.order);
  const microseconds = Math.round(60_000_000 / tempo);
  const track = [0, 0xff, 0x51, 3, (microseconds >> 16) & 0xff, (microseconds >> 8) & 0xff,
    microseconds & 0xff];
  let now = 0;
  for (const event of events) {
    track.push(...variableLength(event.tick - now), ...event.bytes);
    now = event.tick;
  }
  track.push(0, 0xff, 0x2f, 0);
  const header = chunk("MThd", [0, 0, 0, 1, (ticksPerBeat >> 8) & 0xff, ticksPerBeat & 0xff]);
  return new Uint8Array(header.concat(chunk("MTrk", track)));
}
