// The options a person set for each model, remembered between visits (localStorage), and
// forgotten with the form's Reset.

const KEY = "dawhost.options.";

export function loadOptions(modelId) {
  try {
    const value = JSON.parse(localStorage.getItem(KEY + modelId) ?? "{}");
    return value && typeof value === "object" ? value : {};
  } catch {
    return {}; // storage off (private mode) or a damaged entry: start from the defaults
  }
}

export function saveOptions(modelId, options) {
  try {
    localStorage.setItem(KEY + modelId, JSON.stringify(options));
  } catch { /* storage full or off: the form still works, it just will not remember */ }
}

export function forgetOptions(modelId) {
  try {
    localStorage.removeItem(KEY + modelId);
  } catch { /* nothing stored */ }
}
