// Draws notes ([pitch, velocity, start_beat, duration_beat]) on a canvas: beats across,
// pitches up, velocity as brightness, bar lines from the time signature.

export function drawPianoRoll(canvas, notes, beatsPerBar = 4) {
  const context = canvas.getContext("2d");
  const { width, height } = canvas;
  context.fillStyle = "#16181d";
  context.fillRect(0, 0, width, height);
  canvas.dataset.noteCount = String(notes.length);
  if (notes.length === 0) return;

  const pitches = notes.map((n) => n[0]);
  const low = Math.min(...pitches) - 2;
  const high = Math.max(...pitches) + 2;
  const end = Math.max(...notes.map((n) => n[2] + n[3]));
  const beats = Math.max(beatsPerBar, Math.ceil(end / beatsPerBar) * beatsPerBar);
  const x = (beat) => (beat / beats) * width;
  const rowHeight = height / (high - low + 1);
  const y = (pitch) => height - (pitch - low + 1) * rowHeight;

  // Black-key rows are shaded, as on a keyboard, so intervals can be read at a glance.
  for (let pitch = low; pitch <= high; pitch++) {
    if ([1, 3, 6, 8, 10].includes(((pitch % 12) + 12) % 12)) {
      context.fillStyle = "#1e2128";
      context.fillRect(0, y(pitch), width, rowHeight);
    }
  }
  for (let beat = 0; beat <= beats; beat++) {
    context.fillStyle = beat % beatsPerBar === 0 ? "#4a4f5c" : "#2a2e37";
    context.fillRect(Math.min(width - 1, x(beat)), 0, 1, height);
  }
  for (const [pitch, velocity, start, duration] of notes) {
    const light = 35 + Math.round((velocity / 127) * 35);
    context.fillStyle = `hsl(190, 80%, ${light}%)`;
    context.fillRect(x(start), y(pitch) + 1, Math.max(2, x(duration) - 1),
      Math.max(2, rowHeight - 2));
  }
  canvas.dataset.beats = String(beats);
  canvas.dataset.pitchRange = `${low + 2}-${high - 2}`;
}
