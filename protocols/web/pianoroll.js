// Draws notes ([pitch, velocity, start_beat, duration_beat]) on a canvas as a piano roll: a
// keyboard down the left edge (C's named), beats across with bar lines, the primer in grey
// before the continuation in colour, velocity as brightness, and a playhead while playing.
// What it drew is kept in data attributes (note counts, pitch range, beats) for tests.

export const KEYBOARD_WIDTH = 44;
const BLACK = new Set([1, 3, 6, 8, 10]);
const NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"];

export function pitchName(pitch) {
  return `${NAMES[((pitch % 12) + 12) % 12]}${Math.floor(pitch / 12) - 1}`;
}

// `primer` sits at its own beats; the continuation starts `offset` beats in (the primer's end).
export function drawPianoRoll(canvas, { notes, primer = [], offset = 0, beatsPerBar = 4,
  colour = "#78dce8", playhead = null }) {
  const context = canvas.getContext("2d");
  const { width, height } = canvas;
  context.fillStyle = "#16181d";
  context.fillRect(0, 0, width, height);
  canvas.dataset.noteCount = String(notes.length);
  canvas.dataset.primerCount = String(primer.length);
  const placed = notes.map(([p, v, s, d]) => [p, v, s + offset, d]);
  const all = [...primer, ...placed];
  if (all.length === 0) return;

  const pitches = all.map((n) => n[0]);
  const low = Math.max(0, Math.min(...pitches) - 3);
  const high = Math.min(127, Math.max(...pitches) + 3);
  const end = Math.max(...all.map((n) => n[2] + n[3]));
  const beats = Math.max(beatsPerBar, Math.ceil(end / beatsPerBar) * beatsPerBar);
  const rollWidth = width - KEYBOARD_WIDTH;
  const x = (beat) => KEYBOARD_WIDTH + (beat / beats) * rollWidth;
  const rowHeight = height / (high - low + 1);
  const y = (pitch) => height - (pitch - low + 1) * rowHeight;

  // Black-key rows shaded across the roll, so intervals can be read at a glance.
  for (let pitch = low; pitch <= high; pitch++) {
    if (BLACK.has(pitch % 12)) {
      context.fillStyle = "#1e2128";
      context.fillRect(KEYBOARD_WIDTH, y(pitch), rollWidth, rowHeight);
    }
  }
  for (let beat = 0; beat <= beats; beat++) {
    context.fillStyle = beat % beatsPerBar === 0 ? "#4a4f5c" : "#2a2e37";
    context.fillRect(Math.min(width - 1, x(beat)), 0, 1, height);
  }
  if (primer.length && notes.length) {  // where the continuation begins
    context.fillStyle = "#e6db74";
    context.fillRect(x(offset), 0, 2, height);
  }
  const drawNote = ([pitch, velocity, start, duration], hue, saturation) => {
    const light = 35 + Math.round((velocity / 127) * 35);
    context.fillStyle = `hsl(${hue}, ${saturation}%, ${light}%)`;
    context.fillRect(x(start), y(pitch) + 1, Math.max(2, (duration / beats) * rollWidth - 1),
      Math.max(2, rowHeight - 2));
  };
  primer.forEach((note) => drawNote(note, 220, 8));
  const hue = hueOf(colour);
  placed.forEach((note) => drawNote(note, hue, 80));
  drawKeyboard(context, low, high, y, rowHeight);
  if (playhead !== null) {
    context.fillStyle = "#ffffff";
    context.fillRect(x(playhead), 0, 2, height);
  }
  canvas.dataset.beats = String(beats);
  canvas.dataset.pitchRange = notes.length
    ? `${Math.min(...notes.map((n) => n[0]))}-${Math.max(...notes.map((n) => n[0]))}` : "";
}

function drawKeyboard(context, low, high, y, rowHeight) {
  context.fillStyle = "#d8d8d8";
  context.fillRect(0, 0, KEYBOARD_WIDTH, context.canvas.height);
  context.font = `${Math.max(8, Math.min(11, rowHeight * 1.6))}px system-ui, sans-serif`;
  context.textBaseline = "middle";
  for (let pitch = low; pitch <= high; pitch++) {
    const top = y(pitch);
    if (BLACK.has(pitch % 12)) {
      context.fillStyle = "#22252b";
      context.fillRect(0, top, KEYBOARD_WIDTH * 0.6, rowHeight);
    } else {
      context.fillStyle = "#9aa0ab";
      context.fillRect(0, top + rowHeight - 1, KEYBOARD_WIDTH, 1);
    }
    if (pitch % 12 === 0 && rowHeight >= 4) {
      context.fillStyle = "#101216";
      context.fillText(pitchName(pitch), KEYBOARD_WIDTH * 0.62, top + rowHeight / 2);
    }
  }
  context.fillStyle = "#4a4f5c";
  context.fillRect(KEYBOARD_WIDTH - 1, 0, 1, context.canvas.height);
}

function hueOf(colour) {
  const hues = { "#78dce8": 190, "#a9dc76": 95, "#fc9867": 22, "#ab9df2": 250, "#ff6188": 345 };
  return hues[colour] ?? 190;
}
