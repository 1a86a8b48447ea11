// An analysis (`analyze` models: tempo, time signature, beats, downbeats) as a musician reads
// it: the BPM and signature large, the recording's waveform with a thin line on every beat
// and a bright, numbered line on every downbeat (bar 1, 2, ...), and "Apply to transport",
// which sets the page's (dawhost's) transport to that tempo (quarter notes a minute, what a
// DAW's tempo means) and signature. What it shows is kept in data attributes for tests.

import { element } from "./controls.js";
import { drawWaveform } from "./waveform.js";
import { parseWav } from "./wav.js";
import { audioContext } from "./synth.js";

// The recording as {channelData, sampleRate}: the page's own WAV reader, else the browser's
// decoder (FLAC, OGG, MP3...); null when it cannot be read here.
async function decode(file) {
  const bytes = await file.arrayBuffer();
  try {
    return parseWav(bytes);
  } catch {
    try {
      const buffer = await audioContext().decodeAudioData(bytes.slice(0));
      const channelData = [];
      for (let c = 0; c < buffer.numberOfChannels; c += 1) {
        channelData.push(buffer.getChannelData(c));
      }
      return { channelData, sampleRate: buffer.sampleRate };
    } catch {
      return null;
    }
  }
}

export function drawBeats(canvas, analysis, seconds) {
  const context = canvas.getContext("2d");
  const { width, height } = canvas;
  const x = (t) => Math.round((t / seconds) * width);
  context.fillStyle = "rgba(228, 230, 235, 0.45)";
  for (const t of analysis.beats_seconds) context.fillRect(x(t), height * 0.3, 1, height * 0.7);
  context.font = "bold 11px system-ui, sans-serif";
  context.textBaseline = "top";
  analysis.downbeats_seconds.forEach((t, bar) => {
    context.fillStyle = "#ff9e64";
    context.fillRect(x(t) - 1, 0, 3, height);
    context.fillText(String(bar + 1), x(t) + 4, 3);
  });
  canvas.dataset.beats = String(analysis.beats_seconds.length);
  canvas.dataset.downbeats = String(analysis.downbeats_seconds.length);
}

export class AnalysisView {
  // `analysis` is the data output; `audio` the File that was analysed (or null: a server
  // path was typed); `transport` the page's TransportPanel.
  constructor({ analysis, audio, transport }) {
    this.analysis = analysis;
    this.transport = transport;
    const [numerator, denominator] = analysis.signature;
    this.canvas = element("canvas", { className: "beats", width: 1000, height: 140 });
    this.applyButton = element("button", { type: "button", className: "apply-transport",
      textContent: `Apply to transport (${analysis.quarter_tempo.toFixed(1)} BPM, ` +
        `${numerator}/${denominator})` });
    this.applyButton.addEventListener("click", () => this.apply());
    this.applied = element("span", { className: "applied", role: "status" });
    const first = analysis.downbeats_seconds[0];
    const compound = analysis.beats_per_bar === 2 && denominator === 8;
    this.root = element("figure", { className: "analysis", dataset: {
      tempo: String(analysis.tempo), quarterTempo: String(analysis.quarter_tempo),
      signature: `${numerator}/${denominator}` } }, [
      element("div", { className: "headline" }, [
        element("span", { className: "bpm", textContent: analysis.tempo.toFixed(1) }),
        element("span", { className: "unit",
          textContent: compound ? "BPM (dotted quarter)" : "BPM" }),
        element("span", { className: "signature", textContent: `${numerator}/${denominator}` }),
        element("span", { className: "facts", textContent: [
          `${analysis.beats_seconds.length} beats`,
          `${analysis.downbeats_seconds.length} bars`,
          first === undefined ? "no downbeat" : `bar 1 at ${first.toFixed(2)} s`,
          analysis.tempo_confidence === undefined ? null
            : `tempo confidence ${Math.round(analysis.tempo_confidence * 100)} %`,
        ].filter(Boolean).join(" · ") }),
      ]),
      element("div", { className: "wave-box" }, [this.canvas]),
      element("div", { className: "analysis-actions" }, [this.applyButton, this.applied]),
    ]);
    this.draw(audio);
  }

  async draw(audio) {
    const wav = audio ? await decode(audio) : null;
    const seconds = wav ? wav.channelData[0].length / wav.sampleRate : this.analysis.seconds;
    if (wav) {
      drawWaveform(this.canvas, wav, "#5a8f6a");
    } else {
      const context = this.canvas.getContext("2d");
      context.fillStyle = "#16181d";
      context.fillRect(0, 0, this.canvas.width, this.canvas.height);
      this.canvas.dataset.seconds = String(seconds);
    }
    drawBeats(this.canvas, this.analysis, seconds);
    this.root.dataset.drawn = wav ? "waveform" : "timeline";
  }

  apply() {
    const signature = this.analysis.signature;
    this.transport.send({ tempo: this.analysis.quarter_tempo, signature });
    this.applied.textContent = `sent: ${this.analysis.quarter_tempo.toFixed(1)} BPM, ` +
      `${signature[0]}/${signature[1]}`;
    this.root.dataset.applied = "sent";
  }

  // The server's answer to apply_to_transport (the `transport` data output).
  serverApplied(data) {
    this.applied.textContent = data.applied
      ? `dawhost's transport set to ${Number(data.tempo).toFixed(1)} BPM, ` +
        `${data.signature[0]}/${data.signature[1]}`
      : `not applied: ${data.reason}`;
    this.root.dataset.applied = data.applied ? "server" : "refused";
  }
}
