/**
 * A WebSocket client made by hand on a net socket, for clients the `ws` library will not play:
 * one that sends requests and never reads a byte of what comes back. It does the upgrade (the
 * token in the URL, the Host the agent wants, an optional Origin), then writes masked text frames.
 */
import { connect as netConnect, type Socket } from "node:net";
import { randomBytes } from "node:crypto";

export interface RawClient {
  socket: Socket;
  /** Sends one masked text frame. */
  sendText(text: string): void;
  /** Resolves when the agent has closed or reset the TCP connection. */
  readonly ended: Promise<void>;
}

/** Frames `payload` as a masked client frame (RFC 6455 section 5.2). */
export function clientFrame(payload: Uint8Array, opcode = 1): Uint8Array {
  const n = payload.length;
  const head = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const out = new Uint8Array(head + 4 + n);
  const v = new DataView(out.buffer);
  out[0] = 0x80 | opcode;
  if (n < 126) out[1] = 0x80 | n;
  else if (n < 65536) {
    out[1] = 0x80 | 126;
    v.setUint16(2, n);
  } else {
    out[1] = 0x80 | 127;
    v.setBigUint64(2, BigInt(n));
  }
  const mask = new Uint8Array(randomBytes(4));
  out.set(mask, head);
  for (let i = 0; i < n; i++) out[head + 4 + i] = payload[i]! ^ mask[i & 3]!;
  return out;
}

/**
 * Connects to the agent's URL and completes the upgrade. With `read: false` the socket is paused
 * as soon as the 101 has arrived: from then on nothing is read, so the agent's replies pile up
 * in the kernel's socket buffers and then in the agent.
 */
export function rawConnect(url: string, opts: { origin?: string; host?: string; read?: boolean } = {}): Promise<RawClient> {
  const u = new URL(url);
  const socket = netConnect({ host: u.hostname.replace(/^\[|\]$/g, ""), port: Number(u.port) });
  socket.on("error", () => undefined); // a reset from the agent is what the tests expect
  const ended = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  return new Promise((resolve, reject) => {
    let head = "";
    const onData = (chunk: Buffer) => {
      head += chunk.toString("latin1");
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      socket.off("data", onData);
      const status = /^HTTP\/1\.1 (\d{3})/.exec(head);
      if (!status || status[1] !== "101") {
        socket.destroy();
        reject(new Error(`upgrade refused: ${head.split("\r\n")[0]}`));
        return;
      }
      if (opts.read === false) socket.pause();
      else socket.resume();
      resolve({ socket, ended, sendText: (text) => socket.write(clientFrame(new TextEncoder().encode(text))) });
    };
    socket.on("data", onData);
    socket.once("close", () => reject(new Error("closed during the upgrade")));
    socket.once("connect", () => {
      const lines = [
        `GET ${u.pathname}${u.search} HTTP/1.1`,
        `Host: ${opts.host ?? u.host}`,
        "Connection: Upgrade",
        "Upgrade: websocket",
        "Sec-WebSocket-Version: 13",
        `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}`,
        ...(opts.origin !== undefined ? [`Origin: ${opts.origin}`] : []),
      ];
      socket.write(`${lines.join("\r\n")}\r\n\r\n`);
    });
  });
}
