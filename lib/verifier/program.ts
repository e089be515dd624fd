/**
 * Static passes the kernel runs before simulating: subprogram layout and jump ranges
 * (check_subprogs), opcode and ld_imm64 sanity (resolve_pseudo_ldimm64), reachability
 * (check_cfg), prune and jump points, register liveness (compute_live_registers) and loops (SCCs).
 */
import { decodeRaw, type DecodedInsn } from "../ebpf/codec";
import type { RawInsn } from "../ebpf/insn";
import { formatInsn } from "../ebpf/disasm";
import type { ProgType } from "./ctx";
import { helperArgCount, SYNC_CALLBACK_HELPERS } from "./helpers";
import type { MapInfo } from "./reg";

export const CLS = { LD: 0, LDX: 1, ST: 2, STX: 3, ALU: 4, JMP: 5, JMP32: 6, ALU64: 7 } as const;

export const cls = (code: number): number => code & 7;
export const isJmpClass = (code: number): boolean => cls(code) === CLS.JMP || cls(code) === CLS.JMP32;
export const isLdImm64 = (code: number): boolean => code === 0x18;

/** Instructions indexed by slot; the second slot of an ld_imm64 is undefined. */
export type SlotProgram = (DecodedInsn | undefined)[];

export function slotProgram(raw: readonly RawInsn[]): SlotProgram {
  const out: SlotProgram = new Array(raw.length);
  // The kernel validates ld_imm64 pairs itself (with its own message); decode leniently here.
  for (let i = 0; i < raw.length; i++) {
    const r = raw[i]!;
    if (r.code === 0x18 && i + 1 < raw.length) {
      const n = raw[i + 1]!;
      const pairOk = n.code === 0 && n.dst === 0 && n.src === 0 && n.off === 0;
      if (pairOk) {
        const [d] = decodeRaw([r, n]);
        out[i] = { ...d!, index: i };
        i++;
        continue;
      }
    }
    out[i] = { index: i, code: r.code, dst: r.dst, src: r.src, off: r.off, imm: r.imm, slots: 1 };
  }
  return out;
}

/** bpf_opcode_in_insntable: the opcodes the kernel knows at all. */
const VALID_OPCODES: ReadonlySet<number> = (() => {
  const s = new Set<number>();
  for (const c of [0x04, 0x07]) {
    for (let op = 0; op <= 0xc0; op += 0x10) {
      if (op === 0x80) {
        s.add(c | op);
        continue;
      }
      s.add(c | op);
      s.add(c | op | 0x08);
    }
  }
  s.add(0xd4);
  s.add(0xdc);
  s.add(0xd7);
  for (const c of [0x05, 0x06]) {
    for (const op of [0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xb0, 0xc0, 0xd0]) {
      s.add(c | op);
      s.add(c | op | 0x08);
    }
  }
  for (const c of [0x05, 0x06, 0x85, 0x95, 0xe5]) s.add(c);
  for (const c of [0x20, 0x28, 0x30, 0x40, 0x48, 0x50, 0x18]) s.add(c);
  for (const c of [0x61, 0x69, 0x71, 0x79, 0x81, 0x89, 0x91]) s.add(c);
  for (const c of [0x62, 0x6a, 0x72, 0x7a, 0x63, 0x6b, 0x73, 0x7b, 0xc3, 0xdb, 0xcb, 0xd3]) s.add(c);
  return s;
})();

export interface StaticError {
  message: string;
  errno: number;
  insn?: number;
}

const EINVAL = 22;

/** Branch target of a jump, or undefined for non-jumps, calls and exits. */
export function jumpTarget(d: DecodedInsn): number | undefined {
  if (!isJmpClass(d.code)) return undefined;
  const op = d.code & 0xf0;
  if (op === 0x80 || op === 0x90) return undefined;
  if (d.code === 0x06) return d.index + d.imm + 1;
  return d.index + d.off + 1;
}

/** check_subprogs (single function) then the opcode sweep of resolve_pseudo_ldimm64. */
export function checkStructure(p: SlotProgram, mapFds: ReadonlySet<number>): StaticError | null {
  const n = p.length;
  for (let i = 0; i < n; i++) {
    const d = p[i];
    if (!d) continue;
    const t = jumpTarget(d);
    if (t !== undefined && (t < 0 || t >= n)) return { message: `jump out of range from insn ${i} to ${t}`, errno: EINVAL, insn: i };
    if (i + d.slots - 1 === n - 1 && d.code !== 0x95 && d.code !== 0x05 && d.code !== 0x06) {
      return { message: "last insn is not an exit or jmp", errno: EINVAL, insn: i };
    }
  }
  for (let i = 0; i < n; i++) {
    const d = p[i];
    if (!d) continue;
    if (cls(d.code) === CLS.LDX && (((d.code & 0xe0) !== 0x60 && (d.code & 0xe0) !== 0x80) || d.imm !== 0)) {
      return { message: "BPF_LDX uses reserved fields", errno: EINVAL, insn: i };
    }
    if (d.code === 0x18) {
      if (d.slots !== 2) return { message: "invalid bpf_ld_imm64 insn", errno: EINVAL, insn: i };
      if (d.src === 0) continue;
      if (d.src === 1 || d.src === 5) {
        if (Number((d.imm64 ?? 0n) >> 32n) !== 0) return { message: "unrecognized bpf_ld_imm64 insn", errno: EINVAL, insn: i };
        if (!mapFds.has(d.imm)) return { message: `fd ${d.imm} is not pointing to valid bpf_map`, errno: 9, insn: i };
        continue;
      }
      return { message: "unrecognized bpf_ld_imm64 insn", errno: EINVAL, insn: i };
    }
    if (!VALID_OPCODES.has(d.code)) {
      return { message: `unknown opcode ${d.code.toString(16).padStart(2, "0")}`, errno: EINVAL, insn: i };
    }
  }
  return null;
}

export function successors(d: DecodedInsn): number[] {
  const next = d.index + d.slots;
  if (!isJmpClass(d.code)) return [next];
  const op = d.code & 0xf0;
  if (op === 0x90) return [];
  if (op === 0x80) return [next];
  if (op === 0x00) return d.code === 0x05 || d.code === 0x06 ? [jumpTarget(d)!] : [next];
  const t = jumpTarget(d)!;
  return t === next ? [next] : [next, t];
}

export interface CfgInfo {
  prunePoints: Uint8Array;
  jmpPoints: Uint8Array;
  /** Registers r0..r9 live before each instruction (bit i = ri). */
  liveBefore: Uint16Array;
  /** SCC number per instruction, 0 when not in a loop. */
  scc: Int32Array;
}

/** check_cfg's reachability: the first unreachable instruction, if any. */
export function findUnreachable(p: SlotProgram): StaticError | null {
  const seen = new Uint8Array(p.length);
  const stack = [0];
  seen[0] = 1;
  while (stack.length) {
    const i = stack.pop()!;
    const d = p[i];
    if (!d) continue;
    for (const s of successors(d)) {
      if (s >= 0 && s < p.length && !seen[s]) {
        seen[s] = 1;
        stack.push(s);
      }
    }
  }
  for (let i = 0; i < p.length; i++) {
    const d = p[i];
    if (!d) {
      if (seen[i]) return { message: `jump into the middle of ldimm64 insn ${i - 1}`, errno: EINVAL, insn: i - 1 };
      continue;
    }
    if (!seen[i]) return { message: `unreachable insn ${i}`, errno: EINVAL, insn: i };
  }
  return null;
}

const ALL_R0_R9 = 0x3ff;
const CALLER_SAVED = 0x3f;

function useDef(d: DecodedInsn, progType: ProgType): [number, number] {
  const b = (r: number) => (r <= 9 ? 1 << r : 0);
  const c = cls(d.code);
  const x = (d.code & 0x08) !== 0;
  switch (c) {
    case CLS.ALU:
    case CLS.ALU64: {
      const op = d.code & 0xf0;
      if (op === 0xd0 || op === 0x80) return [b(d.dst), b(d.dst)];
      if (op === 0xb0) return [x ? b(d.src) : 0, b(d.dst)];
      return [b(d.dst) | (x ? b(d.src) : 0), b(d.dst)];
    }
    case CLS.LD:
      if (d.code === 0x18) return [0, b(d.dst)];
      return [ALL_R0_R9, CALLER_SAVED];
    case CLS.LDX:
      return [b(d.src), b(d.dst)];
    case CLS.ST:
      return [b(d.dst), 0];
    case CLS.STX: {
      if ((d.code & 0xe0) !== 0xc0) return [b(d.dst) | b(d.src), 0];
      if (d.imm === 0x100) return [b(d.src), b(d.dst)];
      if (d.imm === 0x110) return [b(d.dst) | b(d.src), 0];
      if (d.imm === 0xf1) return [b(d.dst) | b(d.src) | 1, 1];
      return [b(d.dst) | b(d.src), d.imm & 1 ? b(d.src) : 0];
    }
    default: {
      const op = d.code & 0xf0;
      if (op === 0x90) return [1, 0];
      if (op === 0x80) {
        const n = d.src === 0 ? helperArgCount(progType, d.imm) : 5;
        return [((1 << (n + 1)) - 1) & ~1, CALLER_SAVED];
      }
      if (op === 0x00) return [0, 0];
      return [b(d.dst) | (x ? b(d.src) : 0), 0];
    }
  }
}

export function analyseCfg(p: SlotProgram, progType: ProgType): CfgInfo {
  const n = p.length;
  const prunePoints = new Uint8Array(n);
  const jmpPoints = new Uint8Array(n);
  const use = new Uint16Array(n);
  const def = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    const d = p[i];
    if (!d) continue;
    [use[i], def[i]] = useDef(d, progType);
    if (!isJmpClass(d.code)) continue;
    const op = d.code & 0xf0;
    if (op === 0x90) continue;
    if (op === 0x80) {
      const w = i + 1;
      if (w < n) {
        prunePoints[w] = 1;
        jmpPoints[w] = 1;
      }
      continue;
    }
    const t = jumpTarget(d)!;
    if (op === 0x00) {
      if (t >= 0 && t < n) {
        prunePoints[t] = 1;
        jmpPoints[t] = 1;
      }
      continue;
    }
    prunePoints[i] = 1;
    if (t >= 0 && t < n) {
      prunePoints[t] = 1;
      jmpPoints[t] = 1;
    }
  }
  // Backward liveness to a fixpoint.
  const liveBefore = new Uint16Array(n);
  const succ = p.map((d) => (d ? successors(d).filter((s) => s < n) : []));
  // The kernel's CFG returns to a callback-calling helper's call from the callback (see SYNC_CALLBACK_HELPERS).
  p.forEach((d) => d && d.code === 0x85 && d.src === 0 && SYNC_CALLBACK_HELPERS.has(d.imm) && succ[d.index]!.push(d.index));
  for (let changed = true; changed; ) {
    changed = false;
    for (let i = n - 1; i >= 0; i--) {
      if (!p[i]) continue;
      let out = 0;
      for (const s of succ[i]!) out |= liveBefore[s]!;
      const inn = use[i]! | (out & ~def[i]!);
      if (inn !== liveBefore[i]) {
        liveBefore[i] = inn;
        changed = true;
      }
    }
  }
  return { prunePoints, jmpPoints, liveBefore, scc: computeScc(p, succ) };
}

/** Tarjan's strongly connected components; only loops (size > 1 or self edge) get a number. */
function computeScc(p: SlotProgram, succ: number[][]): Int32Array {
  const n = p.length;
  const scc = new Int32Array(n);
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const stack: number[] = [];
  let counter = 0;
  let next = 1;
  const visit = (root: number) => {
    const work: [number, number][] = [[root, 0]];
    index[root] = low[root] = counter++;
    stack.push(root);
    onStack[root] = 1;
    while (work.length) {
      const top = work[work.length - 1]!;
      const [v, k] = top;
      const ss = succ[v]!;
      if (k < ss.length) {
        top[1]++;
        const w = ss[k]!;
        if (index[w] === -1) {
          index[w] = low[w] = counter++;
          stack.push(w);
          onStack[w] = 1;
          work.push([w, 0]);
        } else if (onStack[w]) low[v] = Math.min(low[v]!, index[w]!);
        continue;
      }
      work.pop();
      if (work.length) {
        const u = work[work.length - 1]![0];
        low[u] = Math.min(low[u]!, low[v]!);
      }
      if (low[v] === index[v]) {
        const comp: number[] = [];
        let w: number;
        do {
          w = stack.pop()!;
          onStack[w] = 0;
          comp.push(w);
        } while (w !== v);
        const loop = comp.length > 1 || succ[v]!.includes(v);
        if (loop) {
          for (const c of comp) scc[c] = next;
          next++;
        }
      }
    }
  };
  for (let i = 0; i < n; i++) if (p[i] && index[i] === -1) visit(i);
  return scc;
}

/**
 * The instruction as the kernel prints it after resolving map fds: an ld_imm64 of a map shows the
 * map's kernel address (root may see pointers). The emulator shows `map.address` when the caller
 * knows it, else a stand-in of the same width built from the fd, so that columns line up.
 */
export function insnText(d: DecodedInsn, maps: ReadonlyMap<number, MapInfo>): string {
  if (d.code === 0x18 && (d.src === 1 || d.src === 5)) {
    const map = maps.get(d.imm);
    const addr = map?.address ?? 0xffff888000000000n + BigInt(d.imm >>> 0) * 0x1000n;
    return `(18) r${d.dst} = 0x${addr.toString(16)}`;
  }
  return formatInsn(d);
}
