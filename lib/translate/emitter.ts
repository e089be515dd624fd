/**
 * Collects emitted instructions with their provenance and counts what the statistics report.
 * Every instruction goes through `emit`, which stamps the provenance current at that moment, so
 * no instruction can leave without one.
 */
import { PlaygroundError } from "../errors";
import { label as labelMark, type AsmItem, type Insn } from "../ebpf";
import { BPF_CALL, BPF_JMP } from "../ebpf";
import type { Provenance } from "./types";

export class Emitter {
  readonly items: AsmItem[] = [];
  private prov: Provenance = { origin: "prologue" };
  /** Bounds checks placed (an indirect check has two jumps but is one guard). */
  guards = 0;
  guardJumps = 0;
  packetLoads = 0;
  helperCalls = 0;
  private readonly used = new Set<string>();

  constructor(readonly prefix: string) {}

  /** Runs `fn` with `prov` as the provenance of everything it emits. */
  as<T>(prov: Provenance, fn: () => T): T {
    const saved = this.prov;
    this.prov = prov;
    try {
      return fn();
    } finally {
      this.prov = saved;
    }
  }

  emit(...insns: Insn[]): void {
    for (const insn of insns) {
      if (insn.kind === "plain" && insn.code === (BPF_JMP | BPF_CALL)) this.helperCalls++;
      if (insn.kind === "branch") this.noteTarget(insn.target);
      this.items.push({ ...insn, meta: this.prov });
    }
  }

  /** Emits an instruction that reads packet bytes (counted in `packetLoads`). */
  load(insn: Insn): void {
    this.packetLoads++;
    this.emit(insn);
  }

  /** Emits the conditional jump of a bounds check (counted in `guardJumps`). */
  guard(insn: Insn): void {
    this.guardJumps++;
    this.emit(insn);
  }

  label(name: string): void {
    this.items.push(labelMark(name));
  }

  /** An internal label name (prefixed so it cannot collide with the host's labels). */
  name(suffix: string): string {
    return `${this.prefix}_${suffix}`;
  }

  private noteTarget(t: unknown): void {
    if (typeof t === "object" && t !== null && "label" in t) this.used.add((t as { label: string }).label);
  }

  /** Whether some emitted branch refers to this label. */
  referenced(name: string): boolean {
    return this.used.has(name);
  }
}

/** Stack below r10: M[] at fixed offsets, then 8-byte-aligned regions handed out in order. */
export class StackLayout {
  private cursor: number;

  constructor(
    readonly base: number,
    memSlots: number,
  ) {
    if (!Number.isInteger(base) || base < 0 || base % 8 !== 0) {
      throw new PlaygroundError("translate/abi", `stackBase must be a non-negative multiple of 8 (got ${base})`);
    }
    this.cursor = base + Math.ceil((4 * memSlots) / 8) * 8;
  }

  /** r10-relative offset of M[n]. */
  mem(n: number): number {
    return -(this.base + 4 * (n + 1));
  }

  /** Reserves `size` bytes; returns the r10-relative offset of the region's first byte (8-aligned). */
  alloc(size: number): number {
    this.cursor += Math.ceil(size / 8) * 8;
    if (this.cursor > 512) {
      throw new PlaygroundError("translate/stack", `the translation needs ${this.cursor} bytes of stack, more than the 512 the kernel allows`);
    }
    return -this.cursor;
  }

  get depth(): number {
    return this.cursor;
  }
}
