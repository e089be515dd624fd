"use client";
/** Loading the patched object into the kernel through the agent (placeholder until the agent can). */
import type { CbpfInsn } from "../../../lib/cbpf/insn";
import type { InjectResult } from "../../../lib/inject";

export function InjectLoad(_: { result: InjectResult; cbpf: readonly CbpfInsn[] }) {
  return null;
}
