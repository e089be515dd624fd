/**
 * Share links: the whole editor state (and a small capture) in the URL hash, so a link
 * reproduces the page with no server involved. Layout: "BPFP", a version byte, the JSON length
 * (u32 LE), the JSON, then the capture file bytes; all of it deflate-raw compressed and
 * base64url encoded.
 *
 * A link carries page state only. The agent the page talks to is the receiver's own: the one
 * their `bpf-playground start` names in the URL it prints (`#agent=ws://127.0.0.1:PORT/?token=…`,
 * a secret). `shareLink` builds a link from the page's address without its fragment, and
 * `startFragment` keeps an agent address only when the fragment is not a share.
 */
import { PlaygroundError } from "../errors";
import type { CapturedPacket } from "../pcap";
import type { Target } from "../translate/types";
import { captureFile } from "./packets";

export interface SharedState {
  filter: string;
  dlt: number;
  snaplen: number;
  optimize: boolean;
  target: Target;
  /** Anything the UI wants to restore (selected packet, listing tab, ...); kept as given. */
  view?: Record<string, string | number | boolean>;
  captureName?: string;
  /** A pcap or pcapng file. */
  capture?: Uint8Array;
}

/** The largest capture a link carries (before compression). */
export const SHARE_CAPTURE_LIMIT = 64 * 1024;

const MAGIC = [0x42, 0x50, 0x46, 0x50]; // "BPFP"
const VERSION = 1;
const TARGETS: readonly Target[] = ["socket", "tc", "xdp", "kprobe"];

async function pump(input: Uint8Array<ArrayBuffer>, stream: CompressionStream | DecompressionStream): Promise<Uint8Array> {
  const writer = stream.writable.getWriter();
  void writer.write(input).catch(() => undefined);
  void writer.close().catch(() => undefined);
  const chunks: Uint8Array[] = [];
  const reader = stream.readable.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    chunks.push(value as Uint8Array);
  }
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

export function toBase64Url(bytes: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function fromBase64Url(s: string): Uint8Array<ArrayBuffer> {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) throw new PlaygroundError("share/format", "the share link is not base64url");
  const b64 = s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4);
  let bin: string;
  try {
    bin = atob(b64);
  } catch {
    throw new PlaygroundError("share/format", "the share link is not base64url");
  }
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export async function encodeShare(state: SharedState): Promise<string> {
  const { capture, ...rest } = state;
  const json = new TextEncoder().encode(JSON.stringify(rest));
  const cap = capture ?? new Uint8Array(0);
  const buf = new Uint8Array(9 + json.length + cap.length);
  buf.set(MAGIC, 0);
  buf[4] = VERSION;
  new DataView(buf.buffer).setUint32(5, json.length, true);
  buf.set(json, 9);
  buf.set(cap, 9 + json.length);
  return toBase64Url(await pump(buf, new CompressionStream("deflate-raw")));
}

function fail(message: string): never {
  throw new PlaygroundError("share/format", message);
}

export async function decodeShare(text: string): Promise<SharedState> {
  let buf: Uint8Array;
  try {
    buf = await pump(fromBase64Url(text), new DecompressionStream("deflate-raw"));
  } catch (e) {
    if (e instanceof PlaygroundError) throw e;
    fail("the share link is damaged (it does not decompress)");
  }
  if (buf.length < 9 || MAGIC.some((b, i) => buf[i] !== b)) fail("not a BPF Playground share link");
  if (buf[4] !== VERSION) fail(`share link version ${buf[4]} is not supported`);
  const jsonLen = new DataView(buf.buffer, buf.byteOffset).getUint32(5, true);
  if (9 + jsonLen > buf.length) fail("the share link is truncated");
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(buf.subarray(9, 9 + jsonLen)));
  } catch {
    fail("the share link's state is not JSON");
  }
  const o = raw as Record<string, unknown>;
  if (typeof o !== "object" || o === null) fail("the share link's state is not an object");
  const num = (v: unknown, what: string) => (typeof v === "number" && Number.isInteger(v) && v >= 0 ? v : fail(`bad ${what} in share link`));
  const state: SharedState = {
    filter: typeof o.filter === "string" ? o.filter : fail("bad filter in share link"),
    dlt: num(o.dlt, "link type"),
    snaplen: num(o.snaplen, "snaplen"),
    optimize: typeof o.optimize === "boolean" ? o.optimize : fail("bad optimize flag in share link"),
    target: TARGETS.includes(o.target as Target) ? (o.target as Target) : fail("bad target in share link"),
  };
  if (typeof o.captureName === "string") state.captureName = o.captureName;
  if (typeof o.view === "object" && o.view !== null) {
    const view: Record<string, string | number | boolean> = {};
    for (const [k, v] of Object.entries(o.view as Record<string, unknown>)) {
      if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") view[k] = v;
    }
    state.view = view;
  }
  const cap = buf.subarray(9 + jsonLen);
  if (cap.length > 0) state.capture = cap.slice();
  return state;
}

/**
 * The link that reproduces the page: the page's origin and path with the encoded state as the
 * only thing in the fragment. The page's own query and fragment (which name its agent, with the
 * agent's token) are never copied.
 */
export function shareLink(pageUrl: string, encoded: string): string {
  const u = new URL(pageUrl);
  return `${u.origin}${u.pathname}#${new URLSearchParams({ s: encoded }).toString()}`;
}

/**
 * What a page's URL fragment says at start: the agent address `bpf-playground start` put there,
 * and the fragment without it (to put back in the address bar, so the token is not left in the
 * history or a bookmark). A fragment holding a share (`s=`) came from someone else: an agent
 * address in it is theirs (links made before links carried state only had one), so it is dropped
 * and never used.
 */
export function startFragment(hash: string): { agent: string | null; rest: string } {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const named = params.get("agent");
  params.delete("agent");
  const agent = named && !params.has("s") ? named : null;
  return { agent, rest: params.toString() };
}

/**
 * The longest prefix of the packets whose capture file fits the limit, always keeping `mustKeep`
 * (the selected packet) when it fits alone. Returns the file and how many packets it holds.
 */
export function captureForShare(
  packets: readonly CapturedPacket[],
  limit = SHARE_CAPTURE_LIMIT,
): { bytes: Uint8Array; count: number } | undefined {
  if (packets.length === 0) return undefined;
  let size = 24;
  let count = 0;
  for (const p of packets) {
    const next = size + 16 + p.data.length;
    if (next > limit) break;
    size = next;
    count++;
  }
  if (count === 0) return undefined;
  const chosen = packets.slice(0, count);
  let bytes = captureFile(chosen);
  // Mixed link types make a pcapng file, which is larger; drop packets until it fits.
  while (bytes.length > limit && count > 1) {
    count = Math.floor(count * 0.9);
    bytes = captureFile(packets.slice(0, count));
  }
  return bytes.length <= limit ? { bytes, count } : undefined;
}
