// The transport panel: shows the server's clock (tempo, bar:beat, playing) and sends changes.
// The server only reports changes, so while playing the position is advanced locally from the
// last report and the tempo, the same way the server computes it.

export function formatBarBeat(beat, beatsPerBar) {
  const bar = Math.floor(Math.max(0, beat) / beatsPerBar);
  const within = Math.max(0, beat) - bar * beatsPerBar;
  return `${bar + 1}:${Math.floor(within) + 1}`;
}

export class TransportPanel {
  constructor(root, send) {
    this.root = root;
    this.send = send;
    this.state = null;
    this.receivedAt = 0;
    this.field = (id) => root.querySelector(`#${id}`);
    this.field("transport-play").addEventListener("click", () => this.send({ playing: true }));
    this.field("transport-stop").addEventListener("click", () => this.send({ playing: false }));
    this.field("transport-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const position = this.field("transport-position-input").value.trim();
      const message = {
        tempo: Number(this.field("transport-tempo-input").value),
        signature: [Number.parseInt(this.field("transport-numerator").value, 10),
          Number.parseInt(this.field("transport-denominator").value, 10)],
      };
      // A move only when one is typed: setting the tempo while playing must not jump back.
      if (position !== "") {
        message.position = /^[\d.]+$/.test(position) ? Number(position) : position;
      }
      this.field("transport-position-input").value = "";
      this.send(message);
    });
    setInterval(() => this.render(), 50);
  }

  get beatsPerBar() {
    if (!this.state) return 4;
    return (this.state.numerator * 4) / this.state.denominator;
  }

  update(state) {
    this.state = state;
    this.receivedAt = performance.now();
    // A broadcast must not overwrite what the user is typing (it raced a tempo being entered).
    const show = (id, value) => {
      const input = this.field(id);
      if (input !== document.activeElement) input.value = value;
    };
    show("transport-tempo-input", String(state.tempo));
    show("transport-numerator", String(state.numerator));
    show("transport-denominator", String(state.denominator));
    this.render();
  }

  currentBeat() {
    if (!this.state) return 0;
    const elapsed = this.state.playing ? (performance.now() - this.receivedAt) / 1000 : 0;
    return this.state.beat + (elapsed * this.state.tempo) / 60;
  }

  // The performance.now() time (ms) at which the transport reaches `beat` at its tempo now.
  timeOfBeat(beat) {
    if (!this.state) return performance.now();
    return this.receivedAt + ((beat - this.state.beat) * 60000) / this.state.tempo;
  }

  render() {
    if (!this.state) return;
    const { tempo, numerator, denominator, playing } = this.state;
    this.field("transport-tempo").textContent = tempo.toFixed(1);
    this.field("transport-position").textContent = formatBarBeat(this.currentBeat(),
      this.beatsPerBar);
    this.field("transport-signature").textContent = `${numerator}/${denominator}`;
    const indicator = this.field("transport-playing");
    indicator.textContent = playing ? "playing" : "stopped";
    indicator.dataset.playing = String(playing);
  }
}
