// Form controls generated from a model's description (`describe` on the WebSocket): one per
// option from its schema (slider with the bounds, menu for choices, checkbox, text) and one
// per input (notes text, file path, text). The schema is the only source of bounds here.

import { EXAMPLE_NOTES, parseNotesText } from "./notes.js";

function element(tag, attributes = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (value !== undefined && value !== null) node[key] = value;
  }
  node.append(...children);
  return node;
}

export { element };

function stepFor(option) {
  if (option.type === "int") return 1;
  const span = option.maximum - option.minimum;
  return span > 0 ? Number((span / 1000).toPrecision(1)) : 0.01;
}

export function optionControl(option) {
  const id = `option-${option.name}`;
  const label = element("label", { htmlFor: id, textContent: option.name, title: option.description });
  let control;
  let readout = null;
  if (option.choices) {
    control = element("select", { id }, option.choices.map((choice) =>
      element("option", { value: String(choice), textContent: String(choice) })));
    control.value = String(option.default);
  } else if (option.type === "bool") {
    control = element("input", { id, type: "checkbox", checked: Boolean(option.default) });
  } else if ((option.type === "int" || option.type === "float")
      && option.minimum !== null && option.maximum !== null) {
    control = element("input", {
      id, type: "range", min: option.minimum, max: option.maximum, step: stepFor(option),
    });
    // An optional option left unset (tempo: the transport's) reads "none" until it is moved;
    // untouched, it is not sent, so the server's default applies.
    const unset = option.default === null;
    control.value = unset ? String(option.minimum) : String(option.default);
    readout = element("output", { htmlFor: id, textContent: unset ? "none" : String(option.default) });
    control.addEventListener("input", () => { readout.textContent = control.value; });
  } else if (option.type === "int" || option.type === "float") {
    control = element("input", {
      id, type: "number", step: option.type === "int" ? 1 : "any", value: option.default,
      min: option.minimum ?? undefined, max: option.maximum ?? undefined,
    });
  } else {
    control = element("input", { id, type: "text", value: option.default ?? "" });
  }
  control.dataset.option = option.name;
  control.dataset.type = option.type;
  // Only options the user touched are sent: a slider snaps a default that is off its step grid
  // (0.95 becomes 0.9496), and the server's own defaults (manifest, OSC) should apply.
  const touch = () => { control.dataset.touched = "true"; };
  control.addEventListener("input", touch);
  control.addEventListener("change", touch);
  const row = element("div", { className: "control" }, [label, control]);
  if (readout) row.append(readout);
  if (option.description) row.append(element("small", { textContent: option.description }));
  return row;
}

export function optionValue(control) {
  const type = control.dataset.type;
  if (control.type === "checkbox") return control.checked;
  if (control.tagName === "SELECT") {
    // Menus of numbers send numbers: the schema's choices keep their type on the wire.
    return type === "int" || type === "float" ? Number(control.value) : control.value;
  }
  if (type === "int") return Number.parseInt(control.value, 10);
  if (type === "float") return Number(control.value);
  return control.value;
}

// Set a control to a value (a remembered option): its readout follows and it counts as touched.
export function setOptionValue(control, value) {
  if (control.type === "checkbox") control.checked = Boolean(value);
  else control.value = String(value);
  if (control.value === "" && control.type !== "checkbox") return false; // not among the choices
  control.dataset.touched = "true";
  const readout = control.parentElement?.querySelector("output");
  if (readout) readout.textContent = control.value;
  return true;
}

export const AUDIO_EXTENSIONS = /\.(wav|wave|flac|aif|aiff|ogg|mp3)$/i;
export const MIDI_EXTENSIONS = /\.(mid|midi|smf)$/i;

// `upload(file)` sends a chosen, dropped or recorded file to the server and resolves to its
// path there; `record` makes a microphone recorder (audio inputs only).
export function inputControl(input, upload, record) {
  const id = `input-${input.name}`;
  const title = `${input.name}${input.required ? "" : " (optional)"}`;
  const label = element("label", { htmlFor: id, textContent: title, title: input.description });
  let control;
  if (input.kind === "notes") {
    control = element("textarea", {
      id, rows: 4, value: input.required ? EXAMPLE_NOTES : "",
      placeholder: "pitch velocity start_beat duration_beat, one note per line (or a .mid path)",
    });
  } else if (input.kind === "text") {
    control = element("textarea", { id, rows: 2, placeholder: input.description });
  } else {
    control = element("input", {
      id, type: "text", placeholder: input.kind === "midi_file"
        ? "path to a MIDI file on the server, or choose or drop one"
        : "path to an audio file on the server, or choose, drop or record one",
    });
  }
  control.dataset.input = input.name;
  control.dataset.kind = input.kind;
  const parts = [label, control];
  if (upload && input.kind !== "text") {
    const actions = element("div", { className: "input-actions" },
      [fileChooser(input, control, upload)]);
    if (record && input.kind === "audio_file") {
      actions.append(recordButton(input, control, upload, record));
    }
    actions.append(element("span", { className: "input-status" }));
    parts.push(actions);
  }
  parts.push(element("small", { textContent: input.description }));
  return element("div", { className: "control", dataset: { inputRow: input.name } }, parts);
}

// Upload `file` for the input behind `control` and put its server path in the field; a MIDI
// file's notes are kept on the control (drawn as the primer beside the continuation), an audio
// file itself as `control.audioFile` ({path, file}).
export async function useFileForInput(control, file, upload) {
  const status = control.parentElement?.querySelector(".input-status");
  const say = (text) => { if (status) status.textContent = text; };
  control.value = `uploading ${file.name}...`;
  say("");
  delete control.dataset.primerNotes;
  try {
    const bytes = await file.arrayBuffer();
    if (control.dataset.kind !== "audio_file" && MIDI_EXTENSIONS.test(file.name)) {
      try {
        const { parseMidi } = await import("./midifile.js");
        control.dataset.primerNotes = JSON.stringify(parseMidi(bytes).notes);
      } catch (error) {
        say(`(not drawn: ${error.message})`);
      }
    }
    control.value = await upload(file);
    // Kept so a result can draw on the recording it came from (an analysis's beats).
    if (control.dataset.kind === "audio_file") control.audioFile = { path: control.value, file };
    control.removeAttribute("aria-invalid");
    control.dataset.fileName = file.name;
    say(`${file.name}, ${(file.size / 1024).toFixed(1)} kB`);
  } catch (error) {
    control.value = "";
    control.setAttribute("aria-invalid", "true");
    say(`upload failed: ${error.message}`);
  }
}

// A file picker drawn as a button (a bare <input type=file> is clipped in a narrow column).
function fileChooser(input, control, upload) {
  const accept = input.kind === "audio_file" ? "audio/*,.wav,.flac,.aif,.aiff,.ogg,.mp3"
    : ".mid,.midi";
  const chooser = element("input", { type: "file", accept, className: "visually-hidden",
    title: `upload a file for ${input.name}` });
  chooser.dataset.uploadFor = input.name;
  chooser.addEventListener("change", () => {
    const file = chooser.files?.[0];
    if (file) useFileForInput(control, file, upload);
  });
  return element("label", { className: "file-button" }, [
    input.kind === "audio_file" ? "Choose audio…" : "Choose MIDI…", chooser]);
}

function recordButton(input, control, upload, record) {
  const button = element("button", { type: "button", className: "record",
    textContent: "● Record" });
  button.dataset.recordFor = input.name;
  button.dataset.state = "idle";
  let recorder = null;
  let timer = null;
  button.addEventListener("click", async () => {
    if (!recorder) {
      recorder = record();
      try {
        await recorder.start();
      } catch (error) {
        recorder = null;
        control.setAttribute("aria-invalid", "true");
        control.parentElement.querySelector(".input-status").textContent =
          `microphone: ${error.message}`;
        return;
      }
      button.dataset.state = "recording";
      timer = setInterval(() => {
        button.textContent = `■ Stop ${recorder.seconds.toFixed(1)} s`;
        button.style.setProperty("--level", String(Math.min(1, recorder.level * 3)));
      }, 100);
      return;
    }
    clearInterval(timer);
    const active = recorder;
    recorder = null;
    button.textContent = "● Record";
    button.dataset.state = "idle";
    const stamp = new Date().toISOString().replaceAll(/[:.]/g, "-").slice(0, 19);
    await useFileForInput(control, await active.stop(`recording-${stamp}.wav`), upload);
    button.dataset.recorded = control.value;
  });
  return button;
}

// The value to send for an input, or {error} naming the problem; undefined means "leave out".
export function inputValue(control) {
  const text = control.value;
  if (control.dataset.kind === "notes") {
    const parsed = parseNotesText(text);
    if (parsed.error) return { error: `${control.dataset.input}: ${parsed.error}` };
    if (parsed.path) return { value: parsed.path };
    return parsed.notes.length ? { value: parsed.notes } : {};
  }
  return text.trim() === "" ? {} : { value: control.dataset.kind === "text" ? text : text.trim() };
}
