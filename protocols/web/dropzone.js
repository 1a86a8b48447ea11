// Drag and drop anywhere on the page: a MIDI file becomes the notes (or MIDI) input, an audio
// file the audio input, of the model on screen, or of the first model that takes that kind of
// file (dropping a loop picks the separator). An overlay says what the drop will do.

import { AUDIO_EXTENSIONS, MIDI_EXTENSIONS } from "./controls.js";

export function fileKind(file) {
  if (MIDI_EXTENSIONS.test(file.name) || /midi/.test(file.type)) return "midi";
  if (AUDIO_EXTENSIONS.test(file.name) || file.type.startsWith("audio/")) return "audio";
  return null;
}

const TAKES = { midi: ["notes", "midi_file"], audio: ["audio_file"] };

// The model and input that should take a file of `kind`: the selected model first.
export function targetFor(kind, models, selected) {
  const wanted = TAKES[kind] ?? [];
  const takes = (model) => model.inputs.find((input) => wanted.includes(input.kind));
  const preference = kind === "midi" ? "continue_midi" : "separate_stems";
  const candidates = [selected, ...models.filter((m) => m.capabilities.includes(preference)),
    ...models].filter(Boolean);
  for (const model of candidates) {
    const input = takes(model);
    if (input) return { model, input };
  }
  return null;
}

// `onFile(file, kind)` handles one dropped file; `describe(kind)` names where it would go.
export function installDropZone(overlay, describe, onFile) {
  let depth = 0; // dragenter/dragleave fire for every child element crossed
  const hasFiles = (event) => [...(event.dataTransfer?.types ?? [])].includes("Files");
  document.addEventListener("dragenter", (event) => {
    if (!hasFiles(event)) return;
    depth += 1;
    overlay.hidden = false;
    overlay.textContent = describe();
  });
  document.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) overlay.hidden = true;
  });
  document.addEventListener("dragover", (event) => {
    if (hasFiles(event)) event.preventDefault(); // allow the drop
  });
  document.addEventListener("drop", (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault(); // never navigate away to the file
    depth = 0;
    overlay.hidden = true;
    for (const file of event.dataTransfer.files) onFile(file, fileKind(file));
  });
}
