// Microphone recording for a model's audio input: raw samples from getUserMedia through an
// AudioWorklet-free ScriptProcessor (works everywhere, no extra file), written as a PCM WAV so
// the server reads it like any other file.

import { encodeWav } from "./wav.js";

export class MicRecorder {
  async start() {
    this.stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: false,
      noiseSuppression: false, autoGainControl: false } });
    this.context = new AudioContext();
    this.chunks = [];
    this.level = 0;
    const source = this.context.createMediaStreamSource(this.stream);
    this.processor = this.context.createScriptProcessor(4096, 1, 1);
    this.processor.onaudioprocess = (event) => {
      const samples = new Float32Array(event.inputBuffer.getChannelData(0));
      this.chunks.push(samples);
      this.level = samples.reduce((m, s) => Math.max(m, Math.abs(s)), 0);
    };
    // A processor only runs while connected to the output; it writes silence there.
    source.connect(this.processor).connect(this.context.destination);
    this.startedAt = performance.now();
  }

  get seconds() {
    return this.startedAt ? (performance.now() - this.startedAt) / 1000 : 0;
  }

  // Stops and returns the recording as a WAV File.
  async stop(name = "recording.wav") {
    this.processor.disconnect();
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
