// Reads WAV files (PCM 8/16/24/32-bit and IEEE float, plain or WAVE_FORMAT_EXTENSIBLE) into
// per-channel Float32Arrays, for drawing waveforms without a decoder or a network.

export function parseWav(buffer) {
  const view = new DataView(buffer);
  const text = (offset) => String.fromCharCode(...new Uint8Array(buffer, offset, 4));
  if (buffer.byteLength < 12 || text(0) !== "RIFF" || text(8) !== "WAVE") {
    throw new Error("not a WAV file (no RIFF/WAVE header)");
  }
  let format = null;
  let offset = 12;
  while (offset + 8 <= buffer.byteLength) {
    const id = text(offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === "fmt ") {
      let code = view.getUint16(body, true);
      if (code === 0xfffe) code = view.getUint16(body + 24, true); // sub-format GUID
      format = {
        code,
        channels: view.getUint16(body + 2, true),
        sampleRate: view.getUint32(body + 4, true),
        bits: view.getUint16(body + 14, true),
      };
    } else if (id === "data") {
      if (!format) throw new Error("WAV data chunk before its fmt chunk");
      const length = Math.min(size, buffer.byteLength - body);
      return { ...format, channelData: decode(view, body, length, format) };
    }
    offset = body + size + (size % 2); // chunks are padded to even sizes
  }
  throw new Error("WAV file has no data chunk");
}

function decode(view, start, length, { code, channels, bits }) {
  const width = bits / 8;
  const frames = Math.floor(length / (width * channels));
  const out = Array.from({ length: channels }, () => new Float32Array(frames));
  const read = reader(view, code, bits);
  for (let frame = 0; frame < frames; frame++) {
    for (let ch = 0; ch < channels; ch++) {
      out[ch][frame] = read(start + (frame * channels + ch) * width);
    }
  }
  return out;
}

function reader(view, code, bits) {
  if (code === 3 && bits === 32) return (at) => view.getFloat32(at, true);
  if (code === 3 && bits === 64) return (at) => view.getFloat64(at, true);
  if (code === 1 && bits === 8) return (at) => (view.getUint8(at) - 128) / 128;
  if (code === 1 && bits === 16) return (at) => view.getInt16(at, true) / 32768;
  if (code === 1 && bits === 24) {
    return (at) => {
      const value = view.getUint8(at) | (view.getUint8(at + 1) << 8) | (view.getInt8(at + 2) << 16);
      return value / 8388608;
    };
  }
  if (code === 1 && bits === 32) return (at) => view.getInt32(at, true) / 2147483648;
  throw new Error(`unsupported WAV encoding (format ${code}, ${bits} bits)`);
}

// Min/max per column, for drawing: [[min, max], ...] of the first channel mixed with the rest.
export function peaks(channelData, columns) {
  const frames = channelData[0]?.length ?? 0;
  const result = [];
  for (let column = 0; column < columns; column++) {
    const from = Math.floor((column * frames) / columns);
    const to = Math.max(from + 1, Math.floor(((column + 1) * frames) / columns));
    let low = 0;
    let high = 0;
    for (let i = from; i < Math.min(to, frames); i++) {
      let sum = 0;
      for (const channel of channelData) sum += channel[i];
      const value = sum / channelData.length;
      if (value < low) low = value;
      if (value > high) high = value;
    }
    result.push([low, high]);
  }
  return result;
}

// Mono Float32 samples as a 16-bit PCM WAV file (what a recording is uploaded as).
export function encodeWav(samples, sampleRate) {
  const buffer = new ArrayBuffer(44 + samples.length * 2);
  const view = new DataView(buffer);
  const text = (offset, value) => [...value].forEach((c, i) =>
    view.setUint8(offset + i, c.charCodeAt(0)));
  text(0, "RIFF");
  view.setUint32(4, 36 + samples.length * 2, true);
  text(8, "WAVE");
  text(12, "fmt ");
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  text(36, "data");
  view.setUint32(40, samples.length * 2, true);
  samples.forEach((sample, i) => {
    const clamped = Math.max(-1, Math.min(1, sample));
    view.setInt16(44 + i * 2, Math.round(clamped * 32767), true);
  });
  return buffer;
}
