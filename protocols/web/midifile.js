// Reads a Standard MIDI File (format 0 or 1) into notes [pitch, velocity, start_beat,
// duration_beat] and its first tempo, so a dropped or chosen .mid can be drawn as the primer.

function readVarLen(bytes, at) {
  let value = 0;
  let offset = at;
  for (;;) {
    const byte = bytes[offset++];
    value = (value << 7) | (byte & 0x7f);
    if (!(byte & 0x80)) return [value, offset];
  }
}

export function parseMidi(buffer) {
  const bytes = new Uint8Array(buffer);
  const view = new DataView(buffer);
  const tag = (at) => String.fromCharCode(...bytes.slice(at, at + 4));
  if (bytes.length < 14 || tag(0) !== "MThd") throw new Error("not a MIDI file (no MThd header)");
  const division = view.getUint16(12);
  if (division & 0x8000) throw new Error("SMPTE-timed MIDI files are not supported");
  const notes = [];
  let tempo = null;
  let offset = 8 + view.getUint32(4);
  while (offset + 8 <= bytes.length) {
    const length = view.getUint32(offset + 4);
    const end = Math.min(bytes.length, offset + 8 + length);
    if (tag(offset) === "MTrk") {
      const sounding = new Map(); // channel*128+pitch -> [tick, velocity]
      let at = offset + 8;
      let tick = 0;
      let status = 0;
      while (at < end) {
        let delta;
        [delta, at] = readVarLen(bytes, at);
        tick += delta;
        if (bytes[at] & 0x80) status = bytes[at++];
        if (status === 0xff) {
          const type = bytes[at++];
          let size;
          [size, at] = readVarLen(bytes, at);
          if (type === 0x51 && tempo === null && size === 3) {
            tempo = 60_000_000 / ((bytes[at] << 16) | (bytes[at + 1] << 8) | bytes[at + 2]);
          }
          at += size;
        } else if (status === 0xf0 || status === 0xf7) {
          let size;
          [size, at] = readVarLen(bytes, at);
          at += size;
        } else {
          const kind = status & 0xf0;
          const key = (status & 0x0f) * 128 + bytes[at];
          if (kind === 0x90 && bytes[at + 1] > 0) {
            sounding.set(key, [tick, bytes[at + 1]]);
          } else if (kind === 0x80 || kind === 0x90) {
            const on = sounding.get(key);
            if (on) {
              notes.push([bytes[at], on[1], on[0] / division, (tick - on[0]) / division]);
              sounding.delete(key);
            }
          }
          at += kind === 0xc0 || kind === 0xd0 ? 1 : 2;
        }
      }
    }
    offset = end;
  }
  notes.sort((a, b) => a[2] - b[2] || a[0] - b[0]);
  return { notes, tempo: tempo ?? 120 };
}
