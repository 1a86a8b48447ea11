// One card per stream of notes (one per variation): its own piano roll with the primer drawn
// before it, a play button (WebAudio synth on the page's transport: its next bar, its tempo)
// and a MIDI download: the model's own file once it arrives, until then one made from the notes.

import { element } from "./controls.js";
import { notesToMidi } from "./notes.js";
import { drawPianoRoll } from "./pianoroll.js";
import { NotePlayer } from "./scheduler.js";
import { audioContext } from "./synth.js";

const COLOURS = ["#78dce8", "#a9dc76", "#fc9867", "#ab9df2", "#ff6188"];

export function variationTitle(name) {
  const match = /^notes-(\d+)$/.exec(name);
  return match ? `variation ${match[1]}` : name === "notes" ? "continuation" : name;
}

export class NotesView {
  constructor({ name, index, primer, transport, filename }) {
    this.name = name;
    this.notes = [];
    this.primer = primer?.notes ?? [];
    this.offset = primer?.offset ?? 0;
    this.transport = transport; // the page's TransportPanel
    this.filename = filename;
    this.colour = COLOURS[index % COLOURS.length];
    this.playback = null;
    this.canvas = element("canvas", { className: "pianoroll", width: 560, height: 220 });
    this.count = element("span", { className: "note-count", textContent: "0 notes" });
    this.playButton = element("button", { type: "button", className: "play",
      textContent: "▶ Play", disabled: true });
    this.playButton.addEventListener("click", () => (this.playback ? this.stop() : this.play()));
    this.link = element("a", { className: "download-midi", textContent: "Download MIDI",
      hidden: true });
    this.root = element("article", { className: "variation", dataset: { name, playing: "false" } },
      [element("header", {}, [element("strong", { textContent: variationTitle(name) }), " ",
        this.count, this.playButton, this.link]), this.canvas,
      element("small", { className: "legend", textContent: this.primer.length
        ? "grey: the primer · colour: the continuation · yellow: where it begins" : "" })]);
    this.root.style.setProperty("--variation-colour", this.colour);
    this.draw();
  }

  add(notes) {
    this.notes.push(...notes);
    this.count.textContent = `${this.notes.length} notes`;
    this.playButton.disabled = this.notes.length === 0;
    this.draw();
  }

  draw(playhead = null) {
    drawPianoRoll(this.canvas, { notes: this.notes, primer: this.primer, offset: this.offset,
      beatsPerBar: this.transport.beatsPerBar, colour: this.colour, playhead });
  }

  // At `done`: a file from the streamed notes, unless the model already sent its own.
  finish() {
    if (this.link.dataset.source === "model" || this.notes.length === 0) return;
    const bytes = notesToMidi(this.notes, this.transport.state?.tempo ?? 120);
    this.setLink(new Blob([bytes], { type: "audio/midi" }), this.filename, "page");
  }

  // The model's MIDI file (the primer's tempo, signature and timeline) replaces ours.
  modelFile(blob, filename) {
    this.setLink(blob, filename, "model");
  }

  setLink(blob, filename, source) {
    if (this.link.href) URL.revokeObjectURL(this.link.href);
    this.link.href = URL.createObjectURL(blob);
    this.link.download = filename;
    this.link.dataset.source = source;
    this.link.hidden = false;
  }

  // Plays the primer and the continuation on the page's transport (scheduler.js): from its
  // next bar line while it plays, following its tempo; at once while it is stopped.
  play() {
    const placed = this.notes.map(([p, v, s, d]) => [p, v, s + this.offset, d]);
    this.playback = new NotePlayer(audioContext(), this.transport, [...this.primer, ...placed],
      () => this.stopped());
    this.root.dataset.playing = "true";
    this.root.dataset.startedAt = String(this.playback.startedAt);
    this.root.dataset.startBeat = String(this.playback.clock.origin ?? null);
    this.playButton.textContent = "■ Stop";
    const tick = () => {
      if (!this.playback) return;
      const beat = Math.max(0, this.playback.beat());
      this.root.dataset.playhead = beat.toFixed(3);
      this.draw(beat);
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }

  stop() {
    this.playback?.stop(); // calls stopped()
  }

  stopped() {
    this.playback = null;
    this.root.dataset.playing = "false";
    this.playButton.textContent = "▶ Play";
    this.draw();
  }
}
