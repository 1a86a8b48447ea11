// The AudioWorklet half of the microphone recorder (recorder.js): runs on the audio thread,
// copies each 128-frame block of the first input channel and posts them to the page in
// batches (about 85 ms at 48 kHz), with the batch's peak for the level meter. A "flush" from
// the page posts what is left and then "flushed", so a recording keeps its last samples.

const BATCH_FRAMES = 4096;

class RecorderProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.batch = new Float32Array(BATCH_FRAMES);
    this.filled = 0;
    this.recording = true;
    this.port.onmessage = (event) => {
      if (event.data === "flush") {
        this.send();
        this.recording = false;
        this.port.postMessage({ flushed: true });
      }
    };
  }

  send() {
    if (this.filled === 0) return;
    const samples = this.batch.slice(0, this.filled);
    const peak = samples.reduce((m, s) => Math.max(m, Math.abs(s)), 0);
    this.port.postMessage({ samples, peak }, [samples.buffer]);
    this.filled = 0;
  }

  process(inputs) {
    const channel = inputs[0]?.[0];
    if (!this.recording) return false;
    if (channel) {
      let read = 0;
      while (read < channel.length) {
        const take = Math.min(channel.length - read, BATCH_FRAMES - this.filled);
        this.batch.set(channel.subarray(read, read + take), this.filled);
        this.filled += take;
        read += take;
        if (this.filled === BATCH_FRAMES) this.send();
      }
    }
    return true; // keep running while the microphone is silent or not yet started
  }
}

registerProcessor("dawhost-recorder", RecorderProcessor);
