// One card per request: progress bar, status, cancel, errors, and the results drawn as they
// arrive (piano roll for notes, a waveform and a player per audio file or stem, downloads).
// The card's data attributes (state, fraction, note count) are the page's testable state.

import { element } from "./controls.js";
import { drawPianoRoll } from "./pianoroll.js";
import { notesToMidi } from "./notes.js";
import { drawWaveform } from "./waveform.js";
import { parseWav } from "./wav.js";

const STEM_COLOURS = { vocals: "#fc9867", drums: "#ff6188", bass: "#ab9df2", other: "#78dce8" };

export class JobCard {
  constructor({ id, model, verb, cancel, transport }) {
    this.id = id;
    this.model = model;
    this.notes = [];
    this.transport = transport; // () => {tempo, beatsPerBar} when the notes are written out
    this.urls = [];
    this.progress = element("progress", { max: 1, value: 0 });
    this.percent = element("span", { className: "percent", textContent: "0%" });
    this.status = element("span", { className: "status", textContent: "sent" });
    this.cancelButton = element("button", { type: "button", textContent: "Cancel",
      className: "cancel" });
    this.cancelButton.addEventListener("click", () => cancel(this.id));
    this.error = element("p", { className: "error", hidden: true, role: "alert" });
    this.results = element("div", { className: "results" });
    this.root = element("article", { className: "job", dataset: { id, model, state: "sent",
      fraction: "0" } }, [
      element("header", {}, [
        element("strong", { textContent: model }), ` ${verb} · `,
        element("code", { textContent: id }), " ", this.status, this.cancelButton,
      ]),
      element("div", { className: "bar" }, [this.progress, this.percent]),
      this.error,
      this.results,
    ]);
  }

  setState(state, text = state) {
    this.root.dataset.state = state;
    this.status.textContent = text;
    if (["done", "error", "cancelled"].includes(state)) this.cancelButton.disabled = true;
  }

  setFraction(fraction) {
    const clamped = Math.max(0, Math.min(1, fraction));
    this.progress.value = clamped;
    this.percent.textContent = `${Math.round(clamped * 100)}%`;
    this.root.dataset.fraction = String(clamped);
  }

  handle(message) {
    switch (message.type) {
      case "accepted":
        this.setState("accepted", message.queue_position > 0
          ? `queued (${message.queue_position} ahead)` : "running");
        break;
      case "progress":
        this.setState("running", message.message || "running");
        this.setFraction(message.fraction);
        break;
      case "output":
        this.output(message);
        break;
      case "done":
        this.setFraction(1);
        this.setState("done", `done in ${message.elapsed.toFixed(2)} s, ` +
          `${message.outputs} output${message.outputs === 1 ? "" : "s"}`);
        if (this.notes.length) this.offerMidi();
        break;
      case "error":
        this.fail(message);
        break;
      default:
        break;
    }
  }

  fail(message) {
    const cancelled = message.code === "cancelled";
    this.setState(cancelled ? "cancelled" : "error", cancelled ? "cancelled" : "failed");
    this.error.hidden = false;
    this.error.dataset.code = message.code;
    this.error.textContent = `${message.code}: ${message.message}` +
      (message.field ? ` (field: ${message.field})` : "");
  }

  output(message) {
    if (message.kind === "notes") {
      this.notes.push(...message.notes);
      this.drawNotes();
    } else if (message.kind === "data") {
      this.results.append(element("pre", { className: "data",
        textContent: JSON.stringify(message.data, null, 1) }));
    } else if (!message.frames) {
      // Sent as paths only (too large, or the frames could not be read): show where it is.
      const paths = message.kind === "stems"
        ? Object.entries(message.stems).map(([name, s]) => `${name}: ${s.path}`)
        : [message.path];
      this.results.append(element("p", { className: "path",
        textContent: `${message.name}: ${paths.join(", ")}` }));
    }
  }

  drawNotes() {
    let canvas = this.results.querySelector("canvas.pianoroll");
    if (!canvas) {
      canvas = element("canvas", { className: "pianoroll", width: 640, height: 200 });
      this.results.prepend(element("figure", {}, [canvas,
        element("figcaption", { className: "note-count" })]));
    }
    drawPianoRoll(canvas, this.notes, this.transport().beatsPerBar);
    this.results.querySelector(".note-count").textContent = `${this.notes.length} notes`;
  }

  offerMidi() {
    if (this.results.querySelector("a.download-midi")) return;
    const bytes = notesToMidi(this.notes, this.transport().tempo);
    this.results.append(this.downloadLink(new Blob([bytes], { type: "audio/midi" }),
      `${this.model}-${this.id}.mid`, "Download MIDI", "download-midi"));
  }

  downloadLink(blob, filename, text, className) {
    const url = URL.createObjectURL(blob);
    this.urls.push(url);
    return element("a", { href: url, download: filename, textContent: text, className });
  }

  // A result file from a binary frame: a header {id, index, name, media_type, path, size}.
  file(header, data) {
    const base = header.path.split("/").pop();
    const blob = new Blob([data], { type: header.media_type });
    const figure = element("figure", { className: "file", dataset: { name: header.name,
      mediaType: header.media_type } });
    if (header.media_type.startsWith("audio/wav") || header.media_type === "audio/x-wav") {
      const canvas = element("canvas", { className: "waveform", width: 640, height: 96 });
      canvas.dataset.name = header.name;
      figure.append(element("figcaption", { textContent: header.name }), canvas);
      try {
        drawWaveform(canvas, parseWav(data), STEM_COLOURS[header.name]);
      } catch (error) {
        figure.append(element("p", { className: "error", textContent: String(error) }));
      }
      const url = URL.createObjectURL(blob);
      this.urls.push(url);
      figure.append(element("audio", { controls: true, src: url, preload: "auto" }));
      figure.append(this.downloadLink(blob, base, `Download ${base}`, "download-wav"));
    } else {
      figure.append(element("figcaption", { textContent: header.name }),
        this.downloadLink(blob, base, `Download ${base}`, "download-file"));
    }
    this.results.append(figure);
  }

  remove() {
    this.urls.forEach((url) => URL.revokeObjectURL(url));
    this.root.remove();
  }
}
