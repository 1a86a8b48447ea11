// Chains in the page: a notes input (a continuation's primer) can come from audio instead,
// transcribed by another model in the same request ("hum a phrase, get a continuation").
// The request then carries `"primer": {"from": "transcribe", "inputs": {"audio": path},
// "options": {...}}` (see host/chain.py); the step model's audio input (choose, drop or
// record) and its options come from its own description, like every other control.

import { element, inputControl, inputValue, optionControl, optionValue } from "./controls.js";

// Models that can make notes from a recording: they transcribe and take an audio file.
export function transcribers(models) {
  return models.filter((model) => model.capabilities.includes("transcribe")
    && model.inputs.some((input) => input.kind === "audio_file"));
}

// The "from" menu under a notes input, and the step's own controls shown when it is picked.
export function chainControl(input, models, upload, record) {
  const makers = transcribers(models);
  if (input.kind !== "notes" || makers.length === 0) return null;
  const id = `chain-${input.name}`;
  const menu = element("select", { id }, [
    element("option", { value: "", textContent: "the notes above (or a MIDI file)" }),
    ...makers.map((model) => element("option", { value: model.id,
      textContent: `audio, transcribed by ${model.id}` })),
  ]);
  menu.dataset.chainFor = input.name;
  const step = element("div", { className: "chain-step", hidden: true });
  menu.addEventListener("change", () => {
    const model = makers.find((m) => m.id === menu.value);
    step.hidden = !model;
    // The notes field is not sent while the primer comes from audio: say so by greying it.
    const notes = document.querySelector(`#inputs [data-input="${CSS.escape(input.name)}"]`);
    if (notes) notes.disabled = Boolean(model);
    step.replaceChildren();
    if (!model) return;
    const audio = model.inputs.find((i) => i.kind === "audio_file");
    const control = inputControl({ ...audio, name: `${model.id}.${audio.name}` }, upload, record);
    control.querySelector("[data-input]").dataset.stepInput = audio.name;
    step.append(control, element("details", { className: "step-options" }, [
      element("summary", { textContent: `${model.id} options` }),
      ...model.options.map((option) => {
        const row = optionControl(option);
        row.querySelector("[data-option]").dataset.stepOption = option.name;
        return row;
      }),
    ]));
    // A hummed or sung line is one note at a time: start there (the person may untick it).
    const mono = step.querySelector('[data-step-option="monophonic"]');
    if (mono) {
      mono.checked = true;
      mono.dataset.touched = "true";
    }
  });
  return element("div", { className: "control chain", dataset: { chainRow: input.name } }, [
    element("label", { htmlFor: id, textContent: `${input.name} from` }), menu, step,
    element("small", { textContent: "Pick a transcriber to hum, play or drop a phrase instead: "
      + "it is transcribed, then continued, in one request." }),
  ]);
}

// The chained value of input `name`, {error}, or null when the input is not chained.
export function chainValue(name) {
  const menu = document.querySelector(`[data-chain-for="${CSS.escape(name)}"]`);
  if (!menu || !menu.value) return null;
  const row = menu.closest("[data-chain-row]");
  const inputs = {};
  for (const control of row.querySelectorAll("[data-step-input]")) {
    const result = inputValue(control);
    if (result.error) return { error: result.error };
    if ("value" in result) inputs[control.dataset.stepInput] = result.value;
  }
  if (Object.keys(inputs).length === 0) {
    return { error: `${name}: choose, drop or record the audio ${menu.value} should transcribe` };
  }
  const options = {};
  for (const control of row.querySelectorAll("[data-step-option][data-touched]")) {
    options[control.dataset.stepOption] = optionValue(control);
  }
  return { value: { from: menu.value, inputs, options } };
}
