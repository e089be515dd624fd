/**
 * Compile a filter with libpcap for each stub's link type and splice it into a host object
 * (lib/inject): what the CLI's `inject` and `run --inject` share. A host with stubs of both
 * layers (the skb tracing hosts: L3 when the skb has no MAC header) gets the filter in every
 * called stub, as pwru does, and reject-all where the filter does not compile for that layer
 * (`arp` has no meaning from the IP header on): an unpatched stub would accept every packet.
 */
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { CbpfInsn } from "../lib/cbpf/insn";
import { readBpfObject, type BpfObject } from "../lib/elf";
import { PlaygroundError } from "../lib/errors";
import { findStubs, HOST_OBJECTS, injectFilter, linkTypeOf, REJECT_ALL, resolveStub, type HostKind, type InjectResult, type StubLayer } from "../lib/inject";
import { compileFilter, DEFAULT_SNAPLEN } from "./native/libpcap";

export const BPF_BUILD_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..", "bpf", "build");

/** Path of a project host object (built by scripts/build-bpf.sh). */
export const hostObjectFile = (host: HostKind): string => join(BPF_BUILD_DIR, HOST_OBJECTS[host].file);


export interface CompileInjectOptions {
  readonly filter: string;
  /** The host object's bytes. */
  readonly object: Uint8Array;
  /** Patch only this stub; default: the object's default stub, then every other called stub. */
  readonly stub?: string;
  readonly optimize?: boolean;
  /** Host byte order; default 0, as tcpdump without an interface. */
  readonly netmask?: number;
  readonly snaplen?: number;
}

export interface StubSplice {
  readonly result: InjectResult;
  /** The cBPF spliced in (reject-all where the filter did not compile for the stub's layer). */
  readonly cbpf: readonly CbpfInsn[];
  readonly rejectAll: boolean;
}

export interface CompileInjectResult {
  readonly original: BpfObject;
  /** One per patched stub, in the order applied (each on the previous one's object). */
  readonly splices: readonly StubSplice[];
  /** The object after every splice. */
  readonly object: BpfObject;
  readonly bytes: Uint8Array;
  readonly notes: readonly string[];
}

export function compileAndInject(opts: CompileInjectOptions): CompileInjectResult {
  const original = readBpfObject(opts.object);
  const first = resolveStub(original, opts.stub);
  const others = opts.stub === undefined ? findStubs(original).filter((s) => s.name !== first.name && s.calls.length > 0) : [];
  const compiled = new Map<StubLayer, { ok: true; insns: CbpfInsn[] } | { ok: false; error: string }>();
  const compileFor = (layer: StubLayer) => {
    let c = compiled.get(layer);
    if (!c) {
      c = compileFilter({ filter: opts.filter, dlt: linkTypeOf(layer), snaplen: opts.snaplen ?? DEFAULT_SNAPLEN, optimize: opts.optimize ?? true, netmask: opts.netmask ?? 0 });
      compiled.set(layer, c);
    }
    return c;
  };

  const c0 = compileFor(first.layer);
  if (!c0.ok) throw new PlaygroundError("inject/filter", `${c0.error} (compiled for ${first.layer === "l2" ? "EN10MB" : "RAW"}, the link type of ${first.name})`);
  const splices: StubSplice[] = [];
  const notes: string[] = [];
  let obj = original;
  const apply = (stub: string, layer: StubLayer, cbpf: readonly CbpfInsn[], rejectAll: boolean) => {
    const result = injectFilter({ object: obj, cbpf, linkType: linkTypeOf(layer), stub });
    splices.push({ result, cbpf, rejectAll });
    obj = result.object;
  };
  apply(first.name, first.layer, c0.insns, false);
  for (const s of others) {
    const c = compileFor(s.layer);
    if (c.ok) {
      apply(s.name, s.layer, c.insns, false);
      notes.push(`${s.name} gets the same filter, compiled for ${s.layer === "l2" ? "EN10MB" : "RAW"}`);
    } else {
      apply(s.name, s.layer, REJECT_ALL, true);
      notes.push(`${s.name} rejects every packet: the filter does not compile for ${s.layer === "l2" ? "EN10MB" : "RAW"} (${c.error})`);
    }
  }
  const last = splices[splices.length - 1]!.result;
  // A stub another splice patched: its "not changed by this splice" note no longer matters.
  const patched = new Set(splices.map((s) => s.result.stub.name));
  for (const s of splices) for (const n of s.result.notes) if (!/ is not changed by this splice:/.test(n) || !patched.has(n.split(" ", 1)[0]!)) notes.push(n);
  return { original, splices, object: last.object, bytes: last.bytes, notes: [...new Set(notes)] };
}

/** Reads a host or user object file. */
export function readObjectFile(path: string): Uint8Array {
  return new Uint8Array(readFileSync(path));
}
