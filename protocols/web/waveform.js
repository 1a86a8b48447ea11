// Draws a waveform (min/max per pixel column) of decoded WAV data on a canvas, scaled to its own
// peak so a quiet render is as readable as a loud one (the caption says the real level), and
// records what it drew in data attributes (frames, peak, scale) for a test or a person.

import { peaks } from "./wav.js";

export function decibels(peak) {
  return peak > 0 ? 20 * Math.log10(peak) : -Infinity;
}

export function drawWaveform(canvas, wav, colour = "#7bd88f") {
  const context = canvas.getContext("2d");
  const { width, height } = canvas;
  context.fillStyle = "#16181d";
  context.fillRect(0, 0, width, height);
  context.fillStyle = "#2a2e37";
  context.fillRect(0, height / 2, width, 1);
  const columns = peaks(wav.channelData, width);
  const peak = columns.reduce((m, [low, high]) => Math.max(m, Math.abs(low), Math.abs(high)), 0);
  // Up to 0.9 of the height, never magnifying silence (dither, denormals) into noise.
  const scale = peak > 1e-4 ? 0.9 / peak : 1;
  context.fillStyle = colour;
  columns.forEach(([low, high], column) => {
    const top = ((1 - Math.min(1, high * scale)) / 2) * height;
    const bottom = ((1 - Math.max(-1, low * scale)) / 2) * height;
    context.fillRect(column, top, 1, Math.max(1, bottom - top));
  });
  const frames = wav.channelData[0]?.length ?? 0;
  canvas.dataset.frames = String(frames);
  canvas.dataset.sampleRate = String(wav.sampleRate);
  canvas.dataset.seconds = (frames / wav.sampleRate).toFixed(3);
  canvas.dataset.peak = peak.toFixed(4);
  canvas.dataset.scale = scale.toFixed(3);
  canvas.title = peak > 0 ? `peak ${decibels(peak).toFixed(1)} dBFS` : "silent";
}
