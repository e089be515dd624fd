/**
 * The step debugger for one packet, on either engine: lib/cbpf's stepper or lib/ebpf's machine.
 * Both keep their own history, so stepping back is theirs too; this module only turns their
 * state into rows the registers view prints.
 */
import { createStepper, type CbpfStepper } from "../../../lib/cbpf/stepper";
import { describeInsn } from "../../../lib/cbpf/format";
import type { CbpfInsn } from "../../../lib/cbpf/insn";
import { createMachine, type Assembled, type Machine, type StepRecord } from "../../../lib/ebpf";
import { contextFor, type Target } from "../../../lib/pipeline";
import type { CapturedPacket } from "../../../lib/pcap";
import type { DebugSnapshot, Engine, RegRow } from "./protocol";

const hex32 = (v: number) => `0x${(v >>> 0).toString(16)}`;
const hex64 = (v: bigint) => `0x${v.toString(16)}`;
const signed64 = (v: bigint) => (v >= 1n << 63n ? v - (1n << 64n) : v).toString();

export interface DebugSession {
  snapshot(): DebugSnapshot;
  step(): void;
  back(): void;
  run(breakpoints: ReadonlySet<number>): void;
  reset(): void;
}

export function unavailableSession(engine: Engine, packet: number, why: string): DebugSession {
  const snap: DebugSnapshot = { engine, packet, pc: 0, done: true, returnValue: null, steps: 0, regs: [], memory: [], reads: [], unavailable: why };
  return { snapshot: () => snap, step() {}, back() {}, run() {}, reset() {} };
}

export function cbpfSession(insns: readonly CbpfInsn[], p: CapturedPacket, index: number): DebugSession {
  const s: CbpfStepper = createStepper(insns, p.data, { wireLen: p.origLen });
  return {
    snapshot(): DebugSnapshot {
      const st = s.state;
      const last = s.history[s.history.length - 1];
      const before = last?.before;
      const regs: RegRow[] = [
        { name: "A", value: hex32(st.A), alt: String(st.A >>> 0), changed: before !== undefined && before.A !== st.A },
        { name: "X", value: hex32(st.X), alt: String(st.X >>> 0), changed: before !== undefined && before.X !== st.X },
        { name: "pc", value: String(last && st.done ? last.pc : st.pc), changed: false },
      ];
      // Only the scratch words this run has stored to; the others have no defined value.
      const memory: RegRow[] = [];
      st.M.forEach((v, i) => {
        if (st.Minit[i]) memory.push({ name: `M[${i}]`, value: hex32(v), alt: String(v >>> 0), changed: before !== undefined && before.M[i] !== v });
      });
      const snap: DebugSnapshot = {
        engine: "cbpf",
        packet: index,
        pc: last && st.done ? last.pc : st.pc,
        done: st.done,
        returnValue: st.returnValue,
        steps: st.stepCount,
        regs,
        memory,
        reads: last ? last.reads : [],
      };
      if (st.error) snap.error = st.error;
      if (last) {
        snap.last = `(${String(last.pc).padStart(3, "0")}) ${describeInsn(last.insn, last.pc)}`;
        if (last.note) snap.note = last.note;
      }
      return snap;
    },
    step: () => void s.step(),
    back: () => void s.stepBack(),
    run: (bps) => void s.run(bps),
    reset: () => s.reset(),
  };
}

export function ebpfSession(program: Assembled, target: Target, p: CapturedPacket, index: number): DebugSession {
  const m: Machine = createMachine(program, contextFor(target, p.data, p.dlt, p.origLen), { maxSteps: 100_000 });
  let last: StepRecord | null = null;
  const refreshLast = () => {
    last = m.history[m.history.length - 1] ?? null;
  };
  return {
    snapshot(): DebugSnapshot {
      const st = m.state;
      const written = new Set(last?.regWrites.map((w) => w.reg) ?? []);
      const regs: RegRow[] = st.regs.map((v, i) => ({
        name: `r${i}`,
        value: hex64(v),
        alt: i === 10 ? "frame pointer" : signed64(v),
        changed: written.has(i),
      }));
      // The written part of the stack, 8 bytes a row, as fp-N offsets.
      const memory: RegRow[] = [];
      const size = st.stack.length;
      for (let off = 0; off < size; off += 8) {
        let any = false;
        for (let b = 0; b < 8; b++) if (st.stackWritten[off + b]) any = true;
        if (!any) continue;
        const bytes = Array.from(st.stack.subarray(off, off + 8), (b, k) => (st.stackWritten[off + k] ? b.toString(16).padStart(2, "0") : "··"));
        const lastWrite = last?.writes.some((w) => w.region === "stack" && w.offset >= off && w.offset < off + 8) ?? false;
        memory.push({ name: `fp-${size - off}`, value: bytes.join(" "), changed: lastWrite });
      }
      const snap: DebugSnapshot = {
        engine: "ebpf",
        packet: index,
        pc: last && st.done ? last.pc : st.pc,
        done: st.done,
        returnValue: st.done && !st.fault ? Number(st.regs[0]! & 0xffffffffn) : null,
        steps: st.steps,
        regs,
        memory,
        reads: last ? last.reads.filter((r) => r.region === "packet").map((r) => ({ offset: r.offset, size: r.size })) : [],
      };
      if (st.fault) snap.error = st.fault.message;
      if (last) {
        snap.last = `${last.pc}: ${last.text}`;
        const notes: string[] = [];
        if (last.branch) notes.push(last.branch.taken ? `branch taken → ${last.branch.target}` : "branch not taken");
        if (last.helper) notes.push(`${last.helper.name}(${last.helper.args.map((a) => `0x${a.toString(16)}`).join(", ")}) = ${last.helper.ret}`);
        if (last.ldAbsFailed) notes.push("LD_ABS/LD_IND out of bounds: the program ends with r0 = 0");
        if (last.exit) notes.push(`exit with r0 = ${last.exit.r0}`);
        if (notes.length) snap.note = notes.join("; ");
      }
      return snap;
    },
    step() {
      m.step();
      refreshLast();
    },
    back() {
      m.stepBack();
      refreshLast();
    },
    run(bps) {
      // The machine's run() keeps no history; step so that stepping back still works.
      for (let i = 0; i < 100_000; i++) {
        const r = m.step();
        if (!r || r.nextPc === null) break;
        if (bps.has(r.nextPc)) break;
      }
      refreshLast();
    },
    reset() {
      m.reset();
      last = null;
    },
  };
}
