// Draws a waveform (min/max per pixel column) of decoded WAV data on a canvas and records
// what it drew in data attributes (frames, peak), so a test or a person can check it.

import { peaks } from "./wav.js";

export function drawWaveform(canvas, wav, colour = "#7bd88f") {
  const context = canvas.getContext("2d");
  const { width, height } = canvas;
  context.fillStyle = "#16181d";
  context.fillRect(0, 0, width, height);
  context.fillStyle = "#2a2e37";
  context.fillRect(0, height / 2, width, 1);
  const columns = peaks(wav.channelData, width);
  let peak = 0;
  context.fillStyle = colour;
  columns.forEach(([low, high], column) => {
    peak = Math.max(peak, Math.abs(low), Math.abs(high));
    const top = ((1 - Math.min(1, high)) / 2) * height;
    const bottom = ((1 - Math.max(-1, low)) / 2) * height;
    context.fillRect(column, top, 1, Math.max(1, bottom - top));
  });
  const frames = wav.channelData[0]?.length ?? 0;
  canvas.dataset.frames = String(frames);
  canvas.dataset.sampleRate = String(wav.sampleRate);
  canvas.dataset.seconds = (frames / wav.sampleRate).toFixed(3);
  canvas.dataset.peak = peak.toFixed(4);
}
