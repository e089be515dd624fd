/**
 * Shared by the inject tests: filters compiled with the project's libpcap for a stub's link type,
 * host objects, a scratch directory with bpffs pins, and small C host variants built with clang
 * (for the refusals an object from bpf/ cannot show).
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CbpfInsn } from "../../lib/cbpf/insn";
import { HOST_OBJECTS, linkTypeOf, type HostKind, type StubLayer } from "../../lib/inject";
import { compileFilter } from "../../server/native/libpcap";
import { ROOT } from "../support/bpf-objects";

export { scratch, bpftool } from "../elf/scratch";

export const hostBytes = (host: HostKind): Uint8Array => new Uint8Array(readFileSync(join(ROOT, "bpf", "build", HOST_OBJECTS[host].file)));

/** libpcap's program for `filter` on the link type a stub of `layer` needs (throws if it does not compile). */
export function cbpfFor(filter: string, layer: StubLayer = "l2"): CbpfInsn[] {
  const c = compileFilter({ filter, dlt: linkTypeOf(layer), snaplen: 262144, optimize: true, netmask: 0 });
  if (!c.ok) throw new Error(`${filter}: ${c.error}`);
  return c.insns;
}

/** The error `fn` throws (fails the test when it does not throw). */
export function thrown(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (e) {
    return e as { code: string; message: string };
  }
  throw new Error("expected a throw");
}

/** Builds a C source (with bpf/include on the path, as scripts/build-bpf.sh does) into dir/name.o. */
export function buildC(dir: string, name: string, source: string): Uint8Array {
  const src = join(dir, `${name}.c`);
  const obj = join(dir, `${name}.o`);
  writeFileSync(src, source);
  const multiarch = execFileSync("clang", ["-print-multiarch"], { encoding: "utf8" }).trim();
  const includes = ["-I", join(ROOT, "bpf", "include"), ...(multiarch ? ["-I", `/usr/include/${multiarch}`] : [])];
  execFileSync("clang", ["-target", "bpf", "-g", "-O2", ...includes, "-c", src, "-o", obj], { stdio: ["ignore", "pipe", "pipe"] });
  return new Uint8Array(readFileSync(obj));
}

/** A stub defined with the ABI's body, `static` unless told otherwise. */
export const stubC = (name: string, opts: { global?: boolean; args?: number; used?: boolean } = {}): string => {
  const params = ["void *_c", "void *__c", "void *___c", "void *data", "void *data_end"].slice(0, opts.args ?? 5);
  const body = (opts.args ?? 5) === 5 ? "PLAYGROUND_STUB_BODY(_c, __c, ___c, data, data_end);" : "return data != 0;";
  return `${opts.global ? "" : "static "}__noinline ${opts.used ? "__attribute__((used)) " : ""}bool ${name}(${params.join(", ")})\n{\n\t${body}\n}\n`;
};
