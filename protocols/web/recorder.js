// Microphone recording for a model's audio input: raw samples from getUserMedia through an
// AudioWorklet (recorder-worklet.js, served beside this file), written as a 16-bit PCM mono
// WAV at the AudioContext's rate, so the server reads it like any other file.

import { encodeWav } from "./wav.js";

export class MicRecorder {
  kind = "audio-worklet";

  async start() {
    this.stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: false,
      noiseSuppression: false, autoGainControl: false } });
    this.context = new AudioContext();
    this.chunks = [];
    this.level = 0;
    await this.context.audioWorklet.addModule(new URL("./recorder-worklet.js", import.meta.url));
    const source = this.context.createMediaStreamSource(this.stream);
    this.node = new AudioWorkletNode(this.context, "dawhost-recorder",
      { numberOfInputs: 1, numberOfOutputs: 1, channelCount: 1, channelCountMode: "explicit" });
    this.flushed = new Promise((resolve) => {
      this.node.port.onmessage = (event) => {
        if (event.data.flushed) {
          resolve();
          return;
        }
        this.chunks.push(event.data.samples);
        this.level = event.data.peak;
      };
    });
    // Connected to the output so the graph pulls it on every browser; it writes silence there.
    source.connect(this.node).connect(this.context.destination);
    this.startedAt = performance.now();
  }

  get seconds() {
    return this.startedAt ? (performance.now() - this.startedAt) / 1000 : 0;
  }

  // Stops and returns the recording as a WAV File.
  async stop(name = "recording.wav") {
    this.node.port.postMessage("flush");
    // The audio thread answers within a block; a suspended context never does.
    await Promise.race([this.flushed, new Promise((resolve) => setTimeout(resolve, 1000))]);
    this.node.disconnect();
    this.stream.getTracks().forEach((track) => track.stop());
    const rate = this.context.sampleRate;
    await this.context.close();
    const total = this.chunks.reduce((n, c) => n + c.length, 0);
    const samples = new Float32Array(total);
    let at = 0;
    for (const chunk of this.chunks) {
      samples.set(chunk, at);
      at += chunk.length;
    }
    return new File([encodeWav(samples, rate)], name, { type: "audio/wav" });
  }
}
