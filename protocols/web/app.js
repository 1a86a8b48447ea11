// The browser controller: lists the server's models, builds each one's form from its schema,
// sends requests over the WebSocket and shows every job's progress, errors and results.

import { Connection } from "./connection.js";
import {
  element, inputControl, inputValue, optionControl, optionValue, setOptionValue, useFileForInput,
} from "./controls.js";
import { chainControl, chainValue } from "./chain.js";
import { installDropZone, targetFor } from "./dropzone.js";
import { JobCard } from "./jobs.js";
import { parseNotesText } from "./notes.js";
import { MicRecorder } from "./recorder.js";
import { audioContext } from "./synth.js";
import { forgetOptions, loadOptions, saveOptions } from "./storage.js";
import { TransportPanel } from "./transport.js";

const $ = (selector) => document.querySelector(selector);
const connection = Connection.forPage(window.location);
const jobs = new Map(); // request id -> JobCard
const session = Math.random().toString(36).slice(2, 6);
let models = [];
let selected = null;
let counter = 0;

function showGlobalError(text) {
  const box = $("#global-error");
  box.textContent = text;
  box.hidden = false;
}

function send(message) {
  try {
    connection.send(message);
    return true;
  } catch (error) {
    showGlobalError(error.message);
    return false;
  }
}

function uploadFile(file) {
  counter += 1;
  return connection.upload(`upload-${session}-${counter}`, file);
}

const transport = new TransportPanel($("#transport"), (fields) =>
  send({ type: "transport", ...fields }));

function renderModels() {
  const list = $("#models");
  list.replaceChildren(...models.map((model) => {
    const button = element("button", { type: "button", className: "model",
      dataset: { model: model.id } }, [
      element("strong", { textContent: model.id }),
      element("span", { className: "verbs", textContent: model.verbs.join(", ") }),
    ]);
    button.setAttribute("aria-pressed", String(model.id === selected?.id));
    button.addEventListener("click", () => selectModel(model.id));
    return element("li", {}, [button]);
  }));
  list.dataset.count = String(models.length);
}

function selectModel(id) {
  selected = models.find((model) => model.id === id) ?? null;
  renderModels();
  const panel = $("#request");
  panel.hidden = selected === null;
  if (!selected) return;
  panel.dataset.model = selected.id;
  $("#model-title").textContent = selected.id;
  $("#model-description").textContent = selected.description || "";
  const facts = [selected.capabilities.join(", ").replaceAll("_", " ")];
  if (selected.sample_rate) facts.push(`${selected.sample_rate} Hz`);
  if (selected.causal) facts.push("streams as it generates");
  facts.push(selected.loaded ? "loaded" : "loads on first request");
  $("#model-facts").textContent = facts.join(" · ");
  const verb = $("#verb");
  verb.replaceChildren(...selected.verbs.map((v) => element("option", { value: v,
    textContent: v })));
  $("#verb-row").hidden = selected.verbs.length < 2;
  const record = () => (window.dawhost.lastRecorder = new MicRecorder());
  $("#inputs").replaceChildren(element("legend", { textContent: "Inputs" }),
    ...selected.inputs.flatMap((input) => [inputControl(input, uploadFile, record),
      chainControl(input, models, uploadFile, record)].filter(Boolean)));
  $("#inputs").hidden = selected.inputs.length === 0;
  buildOptions();
  $("#form-error").hidden = true;
}

// The option controls, with the values this browser remembered for the model.
function buildOptions() {
  const reset = element("button", { type: "button", id: "reset-options",
    textContent: "Reset to defaults", title: "forget the options remembered for this model" });
  reset.addEventListener("click", () => {
    forgetOptions(selected.id);
    buildOptions();
  });
  $("#options").replaceChildren(element("legend", { textContent: "Options" }),
    ...selected.options.map(optionControl), reset);
  $("#options").hidden = selected.options.length === 0;
  const remembered = loadOptions(selected.id);
  let restored = 0;
  for (const control of document.querySelectorAll("#options [data-option]")) {
    const name = control.dataset.option;
    if (name in remembered && setOptionValue(control, remembered[name])) restored += 1;
    const remember = () => {
      saveOptions(selected.id, touchedOptions());
      reset.disabled = false;
    };
    control.addEventListener("input", remember);
    control.addEventListener("change", remember);
  }
  $("#options").dataset.restored = String(restored);
  reset.disabled = restored === 0;
}

function touchedOptions() {
  const options = {};
  for (const control of document.querySelectorAll("#options [data-option][data-touched]")) {
    options[control.dataset.option] = optionValue(control);
  }
  return options;
}

// What the continuation follows, for drawing it beside the result: typed notes (the result
// follows at once) or a MIDI file's notes (the result starts on the bar line after it).
function primerFor(message, beatsPerBar) {
  if (!selected.capabilities.includes("continue_midi")) return null;
  const input = selected.inputs.find((i) => i.kind === "notes" || i.kind === "midi_file");
  const control = input && document.querySelector(`#inputs [data-input="${input.name}"]`);
  if (!control) return null;
  let notes = [];
  let fromFile = false;
  if (control.dataset.primerNotes && message.inputs[input.name] === control.value.trim()) {
    notes = JSON.parse(control.dataset.primerNotes);
    fromFile = true;
  } else if (Array.isArray(message.inputs[input.name])) {
    notes = parseNotesText(control.value).notes ?? [];
  }
  if (!notes.length) return null;
  const end = Math.max(...notes.map((n) => n[2] + n[3]));
  const offset = fromFile ? Math.ceil(end / beatsPerBar - 1e-9) * beatsPerBar : end;
  return { notes, offset };
}

function formError(text) {
  const box = $("#form-error");
  box.textContent = text;
  box.hidden = text === "";
}

// The server names the option or input it refused: point at that control in the form.
function markInvalid(field) {
  const control = document.querySelector(
    `#request [data-option="${CSS.escape(field)}"], #request [data-input="${CSS.escape(field)}"]`);
  control?.setAttribute("aria-invalid", "true");
}

// The audio file the request sends, if the page has it (chosen, dropped or recorded here, and
// its path not edited since): a result can be drawn on it.
function audioSent() {
  for (const control of document.querySelectorAll(
    "#inputs [data-kind=audio_file]:not([data-step-input])")) {
    if (control.audioFile && control.audioFile.path === control.value.trim()) {
      return control.audioFile.file;
    }
  }
  return null;
}

function buildRequest() {
  const inputs = {};
  for (const control of document.querySelectorAll("#inputs [data-input]:not([data-step-input])")) {
    const result = chainValue(control.dataset.input) ?? inputValue(control);
    if (result.error) return { error: result.error };
    if ("value" in result) inputs[control.dataset.input] = result.value;
  }
  const options = touchedOptions();
  counter += 1;
  const message = { type: "generate", id: `web-${session}-${counter}`, model: selected.id,
    verb: $("#verb").value, options, inputs };
  const seed = $("#seed").value.trim();
  if (seed !== "") message.seed = Number(seed);
  const start = $("#start").value.trim();
  if (start !== "") message.start = /^[\d.]+$/.test(start) ? Number(start) : start;
  return { message };
}

$("#request-form").addEventListener("submit", (event) => {
  event.preventDefault();
  if (!selected) return;
  const { message, error } = buildRequest();
  if (error) {
    formError(error);
    return;
  }
  formError("");
  document.querySelectorAll("#request [aria-invalid]").forEach((c) =>
    c.removeAttribute("aria-invalid"));
  const card = new JobCard({
    id: message.id, model: message.model, verb: message.verb,
    cancel: (id) => send({ type: "cancel", id }),
    transport,
    primer: primerFor(message, transport.beatsPerBar),
    audio: audioSent(),
  });
  jobs.set(message.id, card);
  $("#jobs").prepend(card.root);
  if (!send(message)) card.fail({ code: "not_connected", message: "not connected to dawhost" });
});

connection.addEventListener("state", ({ detail }) => {
  const badge = $("#connection");
  badge.dataset.state = detail;
  badge.textContent = { connecting: "connecting…", open: "connected", closed: "disconnected" }[
    detail];
  if (detail === "open") {
    $("#global-error").hidden = true;
    send({ type: "describe" });
  }
});

connection.addEventListener("message", ({ detail: message }) => {
  if (message.type === "models") {
    models = message.models;
    if (!selected && models.length) selectModel(models[0].id);
    else selectModel(selected?.id);
    if (message.transport) transport.update(message.transport);
  } else if (message.type === "transport") {
    transport.update(message);
  } else if (jobs.has(message.id)) {
    const card = jobs.get(message.id);
    card.handle(message);
    if (message.type === "error" && message.field && card.model === selected?.id) {
      markInvalid(message.field);
    }
  } else if (message.type === "error") {
    showGlobalError(`${message.code}: ${message.message}`);
  }
});

connection.addEventListener("frame", ({ detail: { header, data } }) => {
  jobs.get(header.id)?.file(header, data);
});

connection.addEventListener("problem", ({ detail }) => showGlobalError(detail));

installDropZone($("#drop-overlay"), () => {
  const where = (kind) => {
    const target = targetFor(kind, models, selected);
    return target ? `${target.model.id} ${target.input.name}` : "nothing here takes it";
  };
  return `Drop: MIDI → ${where("midi")} · audio → ${where("audio")}`;
}, (file, kind) => {
  // Audio dropped while a primer is set to come from audio: it is the recording to transcribe.
  const step = kind === "audio" && document.querySelector("#inputs [data-step-input]");
  if (step) {
    document.body.dataset.lastDrop = `${selected.id}:${step.dataset.input}`;
    useFileForInput(step, file, uploadFile);
    return;
  }
  const target = kind && targetFor(kind, models, selected);
  document.body.dataset.lastDrop = target ? `${target.model.id}:${target.input.name}` : "refused";
  if (!target) {
    showGlobalError(`${file.name}: drop a MIDI file (.mid) or an audio file (.wav, .flac, ...)`);
    return;
  }
  if (target.model.id !== selected?.id) selectModel(target.model.id);
  const control = document.querySelector(`#inputs [data-input="${target.input.name}"]`);
  useFileForInput(control, file, uploadFile);
});
connection.open();

// For the browser console (and the tests): the page's clock, audio and jobs.
window.dawhost = { transport, audioContext, jobs, connection };
