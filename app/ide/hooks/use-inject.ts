"use client";
/**
 * The inject pane's work, all in the browser: fetch a host object (GET /api/host-object/<kind>)
 * or take an uploaded one, read it (lib/elf) and list its stubs (lib/inject's findStubs), compile
 * the page's filter for the chosen stub's link type (POST /api/compile, its own compile client),
 * splice it in with injectFilter and publish the result ("inject.result") for the diff pane.
 */
import { useEffect, useMemo, useRef, useState } from "react";
import type { CbpfInsn } from "../../../lib/cbpf/insn";
import { readBpfObject, type BpfObject } from "../../../lib/elf";
import { isPlaygroundError } from "../../../lib/errors";
import { findStubs, HOST_OBJECTS, injectFilter, linkTypeOf, type HostKind, type InjectResult, type StubInfo } from "../../../lib/inject";
import { CompileClient, type CompileParams, type CompileResponse } from "../compile-client";
import { useHub, useTopic, type IdeTopics } from "../events";

export type HostSource = { readonly kind: "host"; readonly host: HostKind } | { readonly kind: "upload"; readonly name: string; readonly bytes: Uint8Array };

export type ObjectState =
  | { readonly status: "loading" }
  | { readonly status: "error"; readonly error: string }
  | { readonly status: "ok"; readonly name: string; readonly bytes: Uint8Array; readonly object: BpfObject; readonly stubs: readonly StubInfo[] };

/** Where the splice stands: waiting for the object or libpcap, refused (with its code), or done. */
export type InjectOutcome =
  | { readonly status: "waiting"; readonly why: string }
  | { readonly status: "refused"; readonly code: string; readonly message: string }
  | { readonly status: "ok"; readonly result: InjectResult; readonly cbpf: readonly CbpfInsn[] };

export interface InjectState {
  readonly source: HostSource;
  readonly setSource: (s: HostSource) => void;
  readonly object: ObjectState;
  /** The stub the filter goes into (a name in `object.stubs`). */
  readonly stub: StubInfo | null;
  readonly setStub: (name: string) => void;
  readonly outcome: InjectOutcome;
  /** A name for the patched object's download. */
  readonly fileName: string;
}

async function fetchHost(host: HostKind): Promise<Uint8Array> {
  const res = await fetch(`/api/host-object/${host}`);
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as { error?: string } | null;
    throw new Error(body?.error ?? `GET /api/host-object/${host}: HTTP ${res.status}`);
  }
  return new Uint8Array(await res.arrayBuffer());
}

function readObject(name: string, bytes: Uint8Array): ObjectState {
  try {
    const object = readBpfObject(bytes);
    return { status: "ok", name, bytes, object, stubs: findStubs(object) };
  } catch (e) {
    return { status: "error", error: `${name}: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/** The stub a filter goes into unless the user picks another: the host's own, else the first one called. */
function defaultStub(source: HostSource, stubs: readonly StubInfo[]): StubInfo | null {
  if (source.kind === "host") {
    const named = stubs.find((s) => s.name === HOST_OBJECTS[source.host].stub);
    if (named) return named;
  }
  return stubs.find((s) => s.calls.length > 0) ?? stubs[0] ?? null;
}

/** Before Ide.tsx publishes its settings (a constant: a fresh object per render would never settle). */
export const NO_SETTINGS: IdeTopics["settings"] = { filter: "", dlt: 1, snaplen: 262144, optimize: true, target: "socket" };

export function useInject(): InjectState {
  const hub = useHub();
  const settings = useTopic("settings", NO_SETTINGS);
  const [source, setSource] = useState<HostSource>({ kind: "host", host: "xdp" });
  const [object, setObject] = useState<ObjectState>({ status: "loading" });
  const [stubName, setStubName] = useState<string | null>(null);
  const [compiled, setCompiled] = useState<{ params: CompileParams; response: CompileResponse } | null>(null);
  const compiler = useRef<CompileClient | null>(null);

  useEffect(() => {
    let live = true;
    setStubName(null);
    if (source.kind === "upload") {
      setObject(readObject(source.name, source.bytes));
      return;
    }
    setObject({ status: "loading" });
    fetchHost(source.host)
      .then((bytes) => live && setObject(readObject(HOST_OBJECTS[source.host].file, bytes)))
      .catch((e: unknown) => live && setObject({ status: "error", error: e instanceof Error ? e.message : String(e) }));
    return () => {
      live = false;
    };
  }, [source]);

  const stubs = object.status === "ok" ? object.stubs : [];
  const stub = stubs.find((s) => s.name === stubName) ?? defaultStub(source, stubs);

  // The filter compiled for the stub's layer: Ethernet for L2, raw IP for L3.
  const params = useMemo<CompileParams | null>(
    () => (stub ? { filter: settings.filter, dlt: linkTypeOf(stub.layer), snaplen: settings.snaplen, optimize: settings.optimize } : null),
    [stub, settings.filter, settings.snaplen, settings.optimize],
  );
  useEffect(() => {
    if (!params) return;
    compiler.current ??= new CompileClient((p, response) => setCompiled({ params: p, response }));
    compiler.current.request(params);
  }, [params]);

  const outcome = useMemo<InjectOutcome>(() => {
    if (object.status === "loading") return { status: "waiting", why: "reading the host object…" };
    if (object.status === "error") return { status: "waiting", why: object.error };
    if (!stub || !params) return { status: "refused", code: "inject/no-stub", message: `${object.name} has no filter stub (a static __noinline function named filter_pcap_ebpf_l2 or _l3)` };
    if (!compiled || CompileClient.key(compiled.params) !== CompileClient.key(params)) return { status: "waiting", why: "libpcap is compiling the filter…" };
    const r = compiled.response;
    if (!r.ok) return { status: "refused", code: "libpcap", message: `libpcap (link type ${params.dlt === 1 ? "EN10MB" : "RAW"}): ${r.error}` };
    try {
      return { status: "ok", result: injectFilter({ object: object.object, cbpf: r.insns, linkType: params.dlt, stub: stub.name }), cbpf: r.insns };
    } catch (e) {
      if (isPlaygroundError(e)) return { status: "refused", code: e.code, message: e.message };
      return { status: "refused", code: "internal", message: e instanceof Error ? e.message : String(e) };
    }
  }, [object, stub, params, compiled]);

  useEffect(() => {
    hub.publish("inject.result", outcome.status === "ok" ? outcome.result : null);
    hub.publish("inject.loaded", null);
  }, [hub, outcome]);
  useEffect(() => () => hub.publish("inject.result", null), [hub]);

  const base = object.status === "ok" ? object.name.replace(/\.o$/, "") : "object";
  return { source, setSource, object, stub, setStub: setStubName, outcome, fileName: `${base}.patched.o` };
}

/** Saves bytes as a file through a temporary link. */
export function downloadBytes(bytes: Uint8Array, name: string, type = "application/x-elf"): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 5000);
}
