// The player of one audio render: ▶ Play starts the decoded WAV on the page transport's next
// bar line while it plays (at once while it is stopped) and stops when the transport stops,
// with a playhead over the waveform. A render has a fixed rate, so a tempo change during
// playback cannot move it (notes can: scheduler.js); it starts on the bar line of the moment.

import { element } from "./controls.js";
import { audioContext, startTime, toAudioBuffer } from "./synth.js";

export class RenderPlayer {
  constructor(wav, transport) {
    this.wav = wav;
    this.transport = transport;
    this.source = null;
    this.button = element("button", { type: "button", className: "play-render",
      textContent: "▶ Play" });
    this.button.addEventListener("click", () => (this.source ? this.stop() : this.play()));
    this.playhead = element("div", { className: "playhead", hidden: true });
    this.root = element("div", { className: "render-player", dataset: { playing: "false",
      seconds: (wav.channelData[0].length / wav.sampleRate).toFixed(3) } }, [this.button]);
  }

  play() {
    const context = audioContext();
    const following = Boolean(this.transport?.state?.playing);
    const { when, beat } = startTime(context, this.transport);
    const source = context.createBufferSource();
    source.buffer = toAudioBuffer(context, this.wav);
    source.connect(context.destination);
    source.start(when);
    this.source = source;
    const { duration } = source.buffer;
    this.root.dataset.playing = "true";
    this.root.dataset.startedAt = String(when);
    this.root.dataset.startBeat = String(beat); // the transport's bar line ("null": stopped)
    this.playhead.hidden = false;
    this.button.textContent = "■ Stop";
    const tick = () => {
      if (this.source !== source) return;
      const elapsed = context.currentTime - when;
      if (elapsed >= duration || (following && !this.transport.state?.playing)) {
        this.stop();
        return;
      }
      this.playhead.style.left = `${Math.max(0, elapsed / duration) * 100}%`;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }

  stop() {
    try { this.source?.stop(); } catch { /* ended */ }
    this.source = null;
    this.playhead.hidden = true;
    this.root.dataset.playing = "false";
    this.button.textContent = "▶ Play";
  }
}
