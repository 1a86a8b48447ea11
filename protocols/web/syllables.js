// A sung line's syllable timings drawn over its waveform: a box per syllable from its start to
// its end (seconds), labelled with the word at the first syllable of each word.

export function drawSyllables(canvas, syllables, seconds) {
  if (!syllables?.length || !(seconds > 0)) return;
  const context = canvas.getContext("2d");
  const { width, height } = canvas;
  context.font = "11px system-ui, sans-serif";
  context.textBaseline = "top";
  let previousWord = null;
  syllables.forEach((syllable, index) => {
    const left = (syllable.start_seconds / seconds) * width;
    const right = (syllable.end_seconds / seconds) * width;
    context.fillStyle = index % 2 ? "rgba(230, 219, 116, 0.14)" : "rgba(120, 220, 232, 0.14)";
    context.fillRect(left, 0, Math.max(1, right - left), height);
    context.fillStyle = "#e6db74";
    context.fillRect(left, 0, 1, height);
    const label = syllable.word !== previousWord ? syllable.word : "·";
    previousWord = syllable.word;
    context.fillStyle = "#f8f8f2";
    context.fillText(label ?? "", left + 3, 3, Math.max(8, right - left - 4));
  });
  canvas.dataset.syllables = String(syllables.length);
}
