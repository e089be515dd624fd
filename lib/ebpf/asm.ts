/**
 * Assembly: symbolic instructions -> raw slots. Labels are resolved here and only here, the way
 * cilium/ebpf resolves references at marshal time: offset = target slot - (this slot + 1), with an
 * ld_imm64 counting as two slots. An offset that does not fit its field is an error, never a
 * silently truncated jump (the kernel's converter returns -EINVAL for the same reason).
 */
import { PlaygroundError } from "../errors";
import { BPF_PSEUDO_FUNC, OP_LD_IMM64 } from "./opcodes";
import { insnSlots, targetInImm, type AsmItem, type Insn, type RawInsn, type Target } from "./insn";

export interface Assembled {
  /** One entry per 8-byte slot. */
  readonly raw: readonly RawInsn[];
  /** Number of slots (`raw.length`). */
  readonly slots: number;
  /** The instructions, label marks folded away, in program order. */
  readonly insns: readonly Insn[];
  /** Labels of each instruction (its own `label` plus any `label()` marks before it). */
  readonly labels: readonly (readonly string[])[];
  /** Label name -> slot index of the instruction it names. */
  readonly labelIndex: ReadonlyMap<string, number>;
  /** For each raw slot, the index in `insns` of the instruction it came from. */
  readonly origin: readonly number[];
  /** For each instruction, its first slot. */
  readonly slotOf: readonly number[];
}

const err = (code: string, msg: string, index: number): PlaygroundError =>
  new PlaygroundError(code, msg, { kind: "insn", index });

function describe(insn: Insn, index: number): string {
  const code = insn.kind === "ld_imm64" ? OP_LD_IMM64 : insn.code;
  return `instruction ${index} (opcode 0x${code.toString(16).padStart(2, "0")})`;
}

function checkFields(insn: Insn, index: number): void {
  const nibble = (v: number) => Number.isInteger(v) && v >= 0 && v <= 15;
  if (!nibble(insn.dst) || !nibble(insn.src)) {
    throw err("ebpf/asm-field", `${describe(insn, index)}: register field out of range (dst ${insn.dst}, src ${insn.src})`, index);
  }
  if (!Number.isInteger(insn.off) || insn.off < -0x8000 || insn.off > 0x7fff) {
    throw err("ebpf/asm-field", `${describe(insn, index)}: off ${insn.off} is not a signed 16-bit value`, index);
  }
  if (insn.kind !== "ld_imm64") {
    if (!Number.isInteger(insn.code) || insn.code < 0 || insn.code > 0xff) {
      throw err("ebpf/asm-field", `${describe(insn, index)}: opcode out of range`, index);
    }
    if (!Number.isInteger(insn.imm) || insn.imm < -0x80000000 || insn.imm > 0xffffffff) {
      throw err("ebpf/asm-field", `${describe(insn, index)}: imm ${insn.imm} does not fit in 32 bits`, index);
    }
  }
}

/** Resolves labels and lays out slots. Throws PlaygroundError for unknown, duplicate or dangling labels and out-of-range offsets. */
export function assemble(items: readonly AsmItem[]): Assembled {
  const insns: Insn[] = [];
  const labels: string[][] = [];
  const slotOf: number[] = [];
  const labelIndex = new Map<string, number>();
  let pending: string[] = [];
  let slot = 0;

  for (const item of items) {
    if (item.kind === "label") {
      pending.push(item.name);
      continue;
    }
    const index = insns.length;
    const names = item.label !== undefined ? [...pending, item.label] : pending;
    for (const name of names) {
      if (typeof name !== "string" || name === "") throw err("ebpf/label-invalid", `instruction ${index}: label names must be non-empty strings`, index);
      if (labelIndex.has(name)) {
        throw err("ebpf/label-duplicate", `label "${name}" is defined twice (slot ${labelIndex.get(name)} and instruction ${index})`, index);
      }
      labelIndex.set(name, slot);
    }
    checkFields(item, index);
    insns.push(item);
    labels.push(names);
    slotOf.push(slot);
    slot += insnSlots(item);
    pending = [];
  }
  if (pending.length > 0) {
    throw err(
      "ebpf/label-dangling",
      `label "${pending[0]}" is at the end of the program: a label must name an instruction`,
      insns.length,
    );
  }

  const resolve = (t: Target, insn: Insn, index: number, field: "off" | "imm"): number => {
    let rel: number;
    if (typeof t === "number") rel = t;
    else {
      const at = labelIndex.get(t.label);
      if (at === undefined) throw err("ebpf/label-undefined", `${describe(insn, index)} refers to undefined label "${t.label}"`, index);
      rel = at - (slotOf[index] + 1);
    }
    const [lo, hi] = field === "off" ? [-0x8000, 0x7fff] : [-0x80000000, 0x7fffffff];
    if (!Number.isInteger(rel) || rel < lo || rel > hi) {
      const name = typeof t === "number" ? `offset ${t}` : `label "${t.label}"`;
      throw err(
        "ebpf/offset-range",
        `${describe(insn, index)}: jump to ${name} needs ${field} = ${rel}, outside ${lo}..${hi}` +
          (field === "off" ? " (use gotol for long unconditional jumps)" : ""),
        index,
      );
    }
    return rel;
  };

  const raw: RawInsn[] = [];
  const origin: number[] = [];
  insns.forEach((insn, index) => {
    switch (insn.kind) {
      case "plain":
        raw.push({ code: insn.code, dst: insn.dst, src: insn.src, off: insn.off, imm: insn.imm | 0 });
        origin.push(index);
        break;
      case "branch": {
        const inImm = targetInImm(insn.code, insn.src);
        const rel = resolve(insn.target, insn, index, inImm ? "imm" : "off");
        raw.push(
          inImm
            ? { code: insn.code, dst: insn.dst, src: insn.src, off: insn.off, imm: rel }
            : { code: insn.code, dst: insn.dst, src: insn.src, off: rel, imm: insn.imm | 0 },
        );
        origin.push(index);
        break;
      }
      case "ld_imm64": {
        let lo: number;
        let hi: number;
        if (typeof insn.value === "bigint") {
          const v = BigInt.asUintN(64, insn.value);
          lo = Number(v & 0xffffffffn) | 0;
          hi = Number(v >> 32n) | 0;
        } else {
          if (insn.src !== BPF_PSEUDO_FUNC) {
            throw err("ebpf/asm-field", `${describe(insn, index)}: only a BPF_PSEUDO_FUNC ld_imm64 may refer to a label`, index);
          }
          lo = resolve(insn.value, insn, index, "imm");
          hi = 0;
        }
        raw.push({ code: OP_LD_IMM64, dst: insn.dst, src: insn.src, off: insn.off, imm: lo });
        raw.push({ code: 0, dst: 0, src: 0, off: 0, imm: hi });
        origin.push(index, index);
        break;
      }
    }
  });

  return { raw, slots: raw.length, insns, labels, labelIndex, origin, slotOf };
}
