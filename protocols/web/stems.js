// Separated stems as one mixer: a waveform per stem, solo and mute, and one Play that starts
// every stem on the same AudioContext time, so they stay sample-aligned as the model made them.

import { element } from "./controls.js";
import { audioContext, startTime, toAudioBuffer } from "./synth.js";
import { drawWaveform } from "./waveform.js";

export const STEM_COLOURS = { vocals: "#fc9867", drums: "#ff6188", bass: "#ab9df2",
  other: "#78dce8" };

export class StemMixer {
  constructor(names, transport) {
    this.names = names;
    this.transport = transport;
    this.rows = new Map(); // name -> {root, wav, gain, solo, mute, playhead}
    this.sources = [];
    this.playButton = element("button", { type: "button", className: "play-stems",
      textContent: "▶ Play stems", disabled: true });
    this.playButton.addEventListener("click", () => (this.sources.length ? this.stop()
      : this.play()));
    this.list = element("div", { className: "stem-rows" });
    this.root = element("section", { className: "stems", dataset: { playing: "false" } }, [
      element("header", {}, [element("strong", { textContent: "stems" }), this.playButton]),
      this.list]);
  }

  accepts(name) {
    return this.names.includes(name);
  }

  // One stem's WAV arrived: draw it and get ready to play it.
  add(name, wav, download) {
    const canvas = element("canvas", { className: "waveform", width: 560, height: 64 });
    canvas.dataset.name = name;
    drawWaveform(canvas, wav, STEM_COLOURS[name]);
    const solo = element("button", { type: "button", className: "solo", textContent: "S",
      title: `solo ${name}` });
    const mute = element("button", { type: "button", className: "mute", textContent: "M",
      title: `mute ${name}` });
    solo.setAttribute("aria-pressed", "false");
    mute.setAttribute("aria-pressed", "false");
    const playhead = element("div", { className: "playhead", hidden: true });
    const row = element("div", { className: "stem", dataset: { name, audible: "true" } }, [
      element("span", { className: "stem-name", textContent: name }), solo, mute,
      element("div", { className: "wave-box" }, [canvas, playhead]), download]);
    const toggle = (button) => {
      button.setAttribute("aria-pressed", String(button.getAttribute("aria-pressed") !== "true"));
      this.applyGains();
    };
    solo.addEventListener("click", () => toggle(solo));
    mute.addEventListener("click", () => toggle(mute));
    this.rows.set(name, { root: row, wav, solo, mute, playhead, gain: null });
    // Keep the model's order (vocals, drums, bass, other) whatever order the frames come in.
    const ordered = this.names.filter((n) => this.rows.has(n)).map((n) => this.rows.get(n).root);
    this.list.replaceChildren(...ordered);
    this.playButton.disabled = false;
    this.applyGains();
  }

  audible(name) {
    const soloed = [...this.rows.entries()].filter(([, r]) =>
      r.solo.getAttribute("aria-pressed") === "true").map(([n]) => n);
    const row = this.rows.get(name);
    if (soloed.length) return soloed.includes(name);
    return row.mute.getAttribute("aria-pressed") !== "true";
  }

  applyGains() {
    for (const [name, row] of this.rows) {
      const on = this.audible(name);
      row.root.dataset.audible = String(on);
      if (row.gain) row.gain.gain.setTargetAtTime(on ? 1 : 0, row.gain.context.currentTime, 0.01);
    }
  }

  play() {
    const context = audioContext();
    const following = Boolean(this.transport?.state?.playing); // then stop when it stops
    const { when, beat } = startTime(context, this.transport);
    let longest = 0;
    for (const [name, row] of this.rows) {
      const source = context.createBufferSource();
      source.buffer = toAudioBuffer(context, row.wav);
      row.gain = context.createGain();
      row.gain.gain.value = this.audible(name) ? 1 : 0;
      source.connect(row.gain).connect(context.destination);
      source.start(when); // the same instant for every stem
      row.root.dataset.startedAt = String(when);
      row.playhead.hidden = false;
      longest = Math.max(longest, source.buffer.duration);
      this.sources.push(source);
    }
    this.root.dataset.playing = "true";
    this.root.dataset.startedAt = String(when);
    this.root.dataset.startBeat = String(beat); // the transport's bar line ("null": stopped)
    this.playButton.textContent = "■ Stop stems";
    const tick = () => {
      if (!this.sources.length) return;
      const elapsed = context.currentTime - when;
      if (elapsed >= longest || (following && !this.transport.state?.playing)) {
        this.stop();
        return;
      }
      const fraction = Math.max(0, elapsed / longest);
      for (const row of this.rows.values()) row.playhead.style.left = `${fraction * 100}%`;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }

  stop() {
    this.sources.forEach((source) => { try { source.stop(); } catch { /* ended */ } });
    this.sources = [];
    for (const row of this.rows.values()) {
      row.playhead.hidden = true;
      row.gain = null;
    }
    this.root.dataset.playing = "false";
    this.playButton.textContent = "▶ Play stems";
  }
}
