// The WebSocket link to dawhost: JSON messages both ways, result files as binary frames.
// Reconnects with a growing delay; the page's own URL query (?token=...) is passed along.

export const STATES = ["connecting", "open", "closed"];

// A binary frame: 4-byte big-endian header length, a UTF-8 JSON header, then the file bytes.
export function splitBinaryFrame(buffer) {
  const view = new DataView(buffer);
  const length = view.getUint32(0, false);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, length)));
  return { header, data: buffer.slice(4 + length) };
}

export class Connection extends EventTarget {
  constructor(url) {
    super();
    this.url = url;
    this.socket = null;
    this.state = "connecting";
    this.retryDelay = 250;
    this.closedByUser = false;
  }

  static forPage(location) {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return new Connection(`${scheme}//${location.host}/${location.search}`);
  }

  open() {
    this.closedByUser = false;
    this.setState("connecting");
    const socket = new WebSocket(this.url);
    socket.binaryType = "arraybuffer";
    socket.addEventListener("open", () => {
      this.retryDelay = 250;
      this.setState("open");
    });
    socket.addEventListener("message", (event) => this.receive(event.data));
    socket.addEventListener("close", () => {
      this.setState("closed");
      if (!this.closedByUser) {
        // A restarted server comes back on the same port: keep trying, a little slower each time.
        setTimeout(() => this.open(), this.retryDelay);
        this.retryDelay = Math.min(this.retryDelay * 2, 2000);
      }
    });
    this.socket = socket;
  }

  close() {
    this.closedByUser = true;
    this.socket?.close();
  }

  setState(state) {
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: state }));
  }

  receive(data) {
    if (typeof data === "string") {
      let message;
      try {
        message = JSON.parse(data);
      } catch (error) {
        this.dispatchEvent(new CustomEvent("problem", { detail: `bad JSON from server: ${error}` }));
        return;
      }
      this.dispatchEvent(new CustomEvent("message", { detail: message }));
    } else {
      this.dispatchEvent(new CustomEvent("frame", { detail: splitBinaryFrame(data) }));
    }
  }

  send(message) {
    this.sendRaw(JSON.stringify(message));
  }

  sendRaw(data) {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) {
      throw new Error("not connected to dawhost; wait for the connection indicator to turn green");
    }
    this.socket.send(data);
  }

  // Send a file as an `upload` message plus binary chunks; resolves to its path on the server.
  async upload(id, file, chunkBytes = 512 * 1024) {
    const reply = new Promise((resolve, reject) => {
      const listen = (event) => {
        const message = event.detail;
        if (message.id !== id || !["uploaded", "error"].includes(message.type)) return;
        this.removeEventListener("message", listen);
        if (message.type === "uploaded") resolve(message.path);
        else reject(new Error(`${message.code}: ${message.message}`));
      };
      this.addEventListener("message", listen);
    });
    this.send({ type: "upload", id, name: file.name, size: file.size });
    const bytes = await file.arrayBuffer();
    for (let offset = 0; offset < bytes.byteLength; offset += chunkBytes) {
      this.sendRaw(bytes.slice(offset, offset + chunkBytes));
    }
    return reply;
  }
}
