// One card per request: progress bar, status, cancel, errors, and the results drawn as they
// arrive: a card per stream of notes (one per variation) with its piano roll, player and MIDI
// file; a waveform and player per audio file (a sung line's syllables drawn on it); the stems
// as one synchronised mixer; an analysis (tempo, signature, beats) drawn on the recording, with
// "Apply to transport"; data behind a "raw JSON" toggle.
// The card's data attributes (state, fraction, note count) are the page's testable state.

import { AnalysisView } from "./analysis.js";
import { element } from "./controls.js";
import { NotesView } from "./notesview.js";
import { RenderPlayer } from "./renderplayer.js";
import { StemMixer } from "./stems.js";
import { drawSyllables } from "./syllables.js";
import { drawWaveform } from "./waveform.js";
import { parseWav } from "./wav.js";

export class JobCard {
  // `transport` is the page's TransportPanel; `primer` {notes, offset} what was sent to continue.
  // `audio` is the File the request sent, when the page has it.
  constructor({ id, model, verb, cancel, transport, primer = null, audio = null }) {
    this.id = id;
    this.model = model;
    this.transport = transport;
    this.primer = primer;
    this.audio = audio;
    this.analysis = null; // AnalysisView
    this.variations = new Map(); // notes output name -> NotesView
    this.mixer = null;
    this.syllables = null;
    this.urls = [];
    this.players = []; // RenderPlayer per audio file
    this.progress = element("progress", { max: 1, value: 0 });
    this.percent = element("span", { className: "percent", textContent: "0%" });
    this.status = element("span", { className: "status", textContent: "sent" });
    this.cancelButton = element("button", { type: "button", textContent: "Cancel",
      className: "cancel" });
    this.cancelButton.addEventListener("click", () => cancel(this.id));
    this.error = element("p", { className: "error", hidden: true, role: "alert" });
    this.notesArea = element("div", { className: "variations" });
    this.results = element("div", { className: "results" });
    this.root = element("article", { className: "job", dataset: { id, model, state: "sent",
      fraction: "0" } }, [
      element("header", {}, [
        element("strong", { textContent: model }), ` ${verb} · `,
        element("code", { textContent: id }), " ", this.status, this.cancelButton,
      ]),
      element("div", { className: "bar" }, [this.progress, this.percent]),
      this.error,
      this.notesArea,
      this.results,
    ]);
  }

  get notes() {
    return [...this.variations.values()].flatMap((view) => view.notes);
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
        this.variations.forEach((view) => view.finish());
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
    this.variations.forEach((view) => view.stop());
    this.mixer?.stop();
    this.players.forEach((player) => player.stop());
  }

  variation(name) {
    if (!this.variations.has(name)) {
      const view = new NotesView({ name, index: this.variations.size, primer: this.primer,
        transport: this.transport, filename: `${this.model}-${this.id}-${name}.mid` });
      this.variations.set(name, view);
      // notes, notes-1, notes-2 ... in order, whichever streams first
      const views = [...this.variations.entries()].sort(([a], [b]) =>
        a.localeCompare(b, undefined, { numeric: true })).map(([, v]) => v.root);
      this.notesArea.replaceChildren(...views);
    }
    return this.variations.get(name);
  }

  output(message) {
    if (message.kind === "notes") {
      this.variation(message.name ?? "notes").add(message.notes);
      this.root.dataset.noteCount = String(this.notes.length);
    } else if (message.kind === "stems" && message.frames) {
      this.mixer = new StemMixer(Object.keys(message.stems), this.transport);
      this.results.append(this.mixer.root);
    } else if (message.kind === "data") {
      this.data(message);
    } else if (!message.frames) {
      // Sent as paths only (too large, or the frames could not be read): show where it is.
      const paths = message.kind === "stems"
        ? Object.entries(message.stems).map(([name, s]) => `${name}: ${s.path}`)
        : [message.path];
      this.results.append(element("p", { className: "path",
        textContent: `${message.name}: ${paths.join(", ")}` }));
    }
  }

  // Data outputs fold away; a sung line's syllables are drawn on its waveform instead.
  data(message) {
    // A chain's first step reports the notes it made (what was heard): the continuation
    // follows them at once, so they are drawn before it like a primer that was sent.
    const made = message.data?.notes;
    if (!this.primer && message.name?.endsWith(".notes") && Array.isArray(made) && made.length) {
      this.primer = { notes: made, offset: Math.max(...made.map((n) => n[2] + n[3])) };
    }
    const text = JSON.stringify(message.data, null, 1);
    const raw = element("details", { className: "raw", dataset: { name: message.name } }, [
      element("summary", { textContent: `${message.name}: raw JSON (${text.length} bytes)` }),
      element("pre", { className: "data", textContent: text }),
    ]);
    this.results.append(raw);
    const data = message.data ?? {};
    if (Array.isArray(data.beats_seconds) && Array.isArray(data.signature) && data.tempo > 0) {
      this.analysis = new AnalysisView({ analysis: data, audio: this.audio,
        transport: this.transport });
      this.results.prepend(this.analysis.root);
    } else if (message.name === "transport" && "applied" in data) {
      this.analysis?.serverApplied(data);
    }
    if (Array.isArray(message.data?.syllables)) {
      this.syllables = message.data.syllables;
      this.drawSyllablesOnWaveforms();
    }
  }

  drawSyllablesOnWaveforms() {
    for (const canvas of this.results.querySelectorAll("figure.file canvas.waveform")) {
      if (canvas.dataset.syllables) continue;
      drawSyllables(canvas, this.syllables, Number(canvas.dataset.seconds));
    }
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
    const isWav = header.media_type.startsWith("audio/wav") || header.media_type === "audio/x-wav";
    if (this.mixer?.accepts(header.name) && isWav) {
      this.mixer.add(header.name, parseWav(data),
        this.downloadLink(blob, base, "WAV", "download-wav"));
      return;
    }
    const notesName = header.name.replace(/^midi/, "notes");
    if (header.media_type === "audio/midi" && this.variations.has(notesName)) {
      this.variations.get(notesName).modelFile(blob, `${this.model}-${this.id}-${base}`);
      return;
    }
    const figure = element("figure", { className: "file", dataset: { name: header.name,
      mediaType: header.media_type } });
    if (isWav) {
      const canvas = element("canvas", { className: "waveform", width: 720, height: 110 });
      canvas.dataset.name = header.name;
      const caption = element("figcaption", { textContent: header.name });
      const box = element("div", { className: "wave-box" }, [canvas]);
      figure.append(caption, box);
      try {
        const wav = parseWav(data);
        drawWaveform(canvas, wav);
        caption.textContent = `${header.name} · ${canvas.dataset.seconds} s · ${canvas.title}`;
        const player = new RenderPlayer(wav, this.transport); // on the transport's bar line
        this.players.push(player);
        box.append(player.playhead);
        figure.append(player.root);
      } catch (error) {
        figure.append(element("p", { className: "error", textContent: String(error) }));
      }
      figure.append(this.downloadLink(blob, base, `Download ${base}`, "download-wav"));
      this.results.prepend(figure);
      if (this.syllables) this.drawSyllablesOnWaveforms();
    } else {
      figure.append(element("figcaption", { textContent: header.name }),
        this.downloadLink(blob, base, `Download ${base}`, "download-file"));
      this.results.append(figure);
    }
  }

  remove() {
    this.urls.forEach((url) => URL.revokeObjectURL(url));
    this.variations.forEach((view) => view.stop());
    this.mixer?.stop();
    this.players.forEach((player) => player.stop());
    this.root.remove();
  }
}
