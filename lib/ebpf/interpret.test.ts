import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PlaygroundError } from "../errors";
import {
  alu32,
  alu64,
  assemble,
  atomic,
  call,
  callLabel,
  createMachine,
  createRunner,
  endian,
  exit,
  jmp,
  kprobeSkbContext,
  label,
  ldAbs,
  ldImm64,
  ldInd,
  ldx,
  mov64Imm,
  mov64Reg,
  rawInsn,
  runProgram,
  SK_BUFF,
  SKB_LAYOUT_6_18_X86_64,
  st,
  stx,
  XDP_MD,
  type AsmItem,
  type ContextSpec,
} from "./index";

const prog = (...items: AsmItem[]) => assemble(items);

/** A 60-byte Ethernet/IPv4/TCP frame to port 80. */
function tcpFrame(dport = 80): Uint8Array {
  const p = new Uint8Array(60);
  p.set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00], 0);
  p.set([0x45, 0, 0, 46, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], 14);
  p.set([0x30, 0x39, dport >> 8, dport & 0xff], 34);
  return p;
}

/** "tcp dst port 80" with direct packet access, as an XDP/tc program would do it. */
const directFilter = (ctxData: number, ctxEnd: number) =>
  prog(
    ldx("u32", "r2", "r1", ctxData),
    ldx("u32", "r3", "r1", ctxEnd),
    mov64Reg("r4", "r2"),
    alu64("add", "r4", 38),
    jmp("jgt", "r4", "r3", "no"),
    ldx("u16", "r5", "r2", 12),
    endian("be", "r5", 16),
    jmp("jne", "r5", 0x800, "no"),
    ldx("u8", "r5", "r2", 23),
    jmp("jne", "r5", 6, "no"),
    ldx("u16", "r5", "r2", 36),
    endian("be", "r5", 16),
    jmp("jne", "r5", 80, "no"),
    mov64Imm("r0", 2),
    exit(),
    label("no"),
    mov64Imm("r0", 1),
    exit(),
  );

describe("contexts", () => {
  it("XDP: data/data_end loads yield packet pointers; bounds-checked reads see the frame", () => {
    const p = directFilter(XDP_MD.data, XDP_MD.data_end);
    expect(runProgram(p, { kind: "xdp", packet: tcpFrame(80) }).r0).toBe(2);
    expect(runProgram(p, { kind: "xdp", packet: tcpFrame(81) }).r0).toBe(1);
    expect(runProgram(p, { kind: "xdp", packet: tcpFrame(80).subarray(0, 30) }).r0).toBe(1);
  });

  it("tc: __sk_buff data (76) and data_end (80) work; a socket filter may not read them", () => {
    const p = directFilter(SK_BUFF.data, SK_BUFF.data_end);
    expect(runProgram(p, { kind: "tc", packet: tcpFrame(80) }).r0).toBe(2);
    const sock = runProgram(p, { kind: "socket", packet: tcpFrame(80) });
    expect(sock.fault).toMatchObject({ pc: 0, kind: "ctx", message: "invalid bpf_context access off=76 size=4" });
  });

  it("__sk_buff fields: len, protocol (network order), mark, cb, narrow loads; writes only where allowed", () => {
    const read = (off: number, size: "u8" | "u16" | "u32" = "u32", kind: "socket" | "tc" = "socket", fields = {}) =>
      runProgram(prog(ldx(size, "r0", "r1", off), exit()), { kind, packet: tcpFrame(), fields } as ContextSpec);
    expect(read(SK_BUFF.len).r0).toBe(60);
    expect(runProgram(prog(ldx("u32", "r0", "r1", SK_BUFF.len), exit()), { kind: "socket", packet: tcpFrame(), dataOffset: 14 }).r0).toBe(46);
    expect(read(SK_BUFF.protocol).r0).toBe(0x0008);
    expect(read(SK_BUFF.mark, "u32", "socket", { mark: 0xdeadbeef }).r0).toBe(0xdeadbeef);
    expect(read(SK_BUFF.mark + 1, "u8", "socket", { mark: 0xdeadbeef }).r0).toBe(0xbe);
    expect(read(SK_BUFF.cb + 8, "u32", "socket", { cb: [1, 2, 3, 4, 5] }).r0).toBe(3);
    expect(read(SK_BUFF.tc_classid).fault?.kind).toBe("ctx");
    expect(read(SK_BUFF.tc_classid, "u32", "tc").fault).toBeUndefined();
    expect(read(SK_BUFF.mark + 1, "u16").fault?.kind).toBe("ctx"); // misaligned
    const write = (off: number, kind: "socket" | "tc") =>
      runProgram(prog(st("u32", "r1", off, 7), ldx("u32", "r0", "r1", off), exit()), { kind, packet: tcpFrame() });
    expect(write(SK_BUFF.cb, "socket").r0).toBe(7);
    expect(write(SK_BUFF.mark, "socket").fault?.message).toBe(`invalid bpf_context access off=${SK_BUFF.mark} size=4`);
    expect(write(SK_BUFF.mark, "tc").r0).toBe(7);
  });

  it("kprobe: pt_regs->di is the skb; bpf_probe_read_kernel reads head + mac_header from fake kernel memory", () => {
    const L = SKB_LAYOUT_6_18_X86_64;
    const p = prog(
      ldx("u64", "r6", "r1", 112), // PT_REGS_PARM1: skb
      // head = skb->head
      mov64Reg("r1", "r10"),
      alu64("add", "r1", -8),
      mov64Imm("r2", 8),
      mov64Reg("r3", "r6"),
      alu64("add", "r3", L.head),
      call(113),
      ldx("u64", "r7", "r10", -8),
      // mac = skb->mac_header
      mov64Reg("r1", "r10"),
      alu64("add", "r1", -16),
      mov64Imm("r2", 2),
      mov64Reg("r3", "r6"),
      alu64("add", "r3", L.mac_header),
      call(113),
      ldx("u16", "r8", "r10", -16),
      // ethertype = *(u16 *)(head + mac + 12)
      alu64("add", "r7", "r8"),
      mov64Reg("r1", "r10"),
      alu64("add", "r1", -24),
      mov64Imm("r2", 2),
      mov64Reg("r3", "r7"),
      alu64("add", "r3", 12),
      call(113),
      ldx("u16", "r0", "r10", -24),
      endian("be", "r0", 16),
      exit(),
    );
    const res = runProgram(p, kprobeSkbContext({ packet: tcpFrame() }));
    expect(res.fault).toBeUndefined();
    expect(res.r0).toBe(0x0800);
    // A wild pointer makes the helper fail with -EFAULT and zero the buffer, not fault the program.
    const wild = prog(mov64Reg("r1", "r10"), alu64("add", "r1", -8), mov64Imm("r2", 8), ldImm64("r3", 0xdead000000000000n), call(113), exit());
    expect(runProgram(wild, kprobeSkbContext({ packet: tcpFrame() })).r0).toBe(-14n & 0xffffffffffffffffn);
  });
});

describe("legacy LD_ABS / LD_IND (socket filter)", () => {
  it("loads big-endian values relative to skb->data and ends the program with 0 when out of bounds", () => {
    const p = prog(mov64Reg("r6", "r1"), ldAbs("u16", 12), jmp("jne", "r0", 0x800, "no"), ldAbs("u8", 23), jmp("jne", "r0", 6, "no"), mov64Imm("r0", 262144), exit(), label("no"), mov64Imm("r0", 0), exit());
    expect(runProgram(p, { kind: "socket", packet: tcpFrame() }).r0).toBe(262144);
    const oob = prog(mov64Reg("r6", "r1"), ldAbs("u32", 58), mov64Imm("r0", 5), exit());
    const res = runProgram(oob, { kind: "socket", packet: tcpFrame() });
    expect(res).toMatchObject({ r0: 0, steps: 2 });
    expect(res.fault).toBeUndefined();
    const ind = prog(mov64Reg("r6", "r1"), mov64Imm("r7", 30), ldInd("u32", "r7", 0), exit());
    expect(runProgram(ind, { kind: "socket", packet: tcpFrame() }).r0).toBe(0x0a000002);
    // SKF_NET_OFF addresses the network header even when skb->data is elsewhere.
    const net = prog(mov64Reg("r6", "r1"), ldAbs("u8", -0x100000 + 9), exit());
    expect(runProgram(net, { kind: "socket", packet: tcpFrame() }).r0).toBe(6);
  });

  it("does not exist for XDP", () => {
    expect(runProgram(prog(ldAbs("u8", 0), exit()), { kind: "xdp", packet: tcpFrame() }).fault?.kind).toBe("insn");
  });
});

describe("helpers", () => {
  it("bpf_skb_load_bytes copies into the stack, fails with -EFAULT past the end and zeroes the buffer", () => {
    const load = (offset: number) =>
      prog(st("u64", "r10", -8, -1), mov64Imm("r2", offset), mov64Reg("r3", "r10"), alu64("add", "r3", -8), mov64Imm("r4", 2), call(26), ldx("u16", "r1", "r10", -8), alu64("lsh", "r0", 32), alu64("or", "r0", "r1"), exit());
    expect(runProgram(load(12), { kind: "socket", packet: tcpFrame() }).r0).toBe(0x0008);
    const bad = runProgram(load(59), { kind: "socket", packet: tcpFrame() });
    expect(BigInt(bad.r0)).toBe(BigInt.asUintN(64, -14n << 32n));
  });

  it("bpf_get_prandom_u32 is deterministic per seed; bpf_ktime_get_ns advances; bpf_trace_printk collects output", () => {
    const rnd = prog(call(7), exit());
    const a = runProgram(rnd, { kind: "xdp", packet: tcpFrame(), seed: 42 }).r0;
    expect(runProgram(rnd, { kind: "xdp", packet: tcpFrame(), seed: 42 }).r0).toBe(a);
    expect(runProgram(rnd, { kind: "xdp", packet: tcpFrame(), seed: 43 }).r0).not.toBe(a);
    const t = prog(call(5), mov64Reg("r6", "r0"), call(5), alu64("sub", "r0", "r6"), exit());
    expect(runProgram(t, { kind: "xdp", packet: tcpFrame() }).r0).toBe(1000);
    const fmt = "x=%d u=%u h=%x\n\0";
    const items: AsmItem[] = [];
    const bytes = new TextEncoder().encode(fmt.padEnd(24, "\0"));
    for (let i = 0; i < 24; i += 8) {
      let v = 0n;
      for (let k = 7; k >= 0; k--) v = (v << 8n) | BigInt(bytes[i + k]);
      items.push(ldImm64("r1", v), stx("u64", "r10", -24 + i, "r1"));
    }
    items.push(mov64Reg("r1", "r10"), alu64("add", "r1", -24), mov64Imm("r2", fmt.length), mov64Imm("r3", -5), mov64Imm("r4", -5), mov64Imm("r5", 255), call(6), exit());
    const res = runProgram(assemble(items), { kind: "xdp", packet: tcpFrame() });
    expect(res.output).toEqual(["x=-5 u=4294967291 h=ff\n"]);
    expect(res.r0).toBe("x=-5 u=4294967291 h=ff\n".length);
  });

  it("an unknown or unemulated helper is a fault with the helper's kernel name", () => {
    expect(runProgram(prog(call(1), exit()), { kind: "xdp", packet: tcpFrame() }).fault).toMatchObject({ pc: 0, kind: "helper", message: "helper bpf_map_lookup_elem#1 is not emulated" });
  });
});

describe("faults and control flow", () => {
  it("out-of-bounds memory access is a fault with its pc, not an exception", () => {
    const r = runProgram(prog(mov64Imm("r0", 0), ldx("u64", "r0", "r10", 0), exit()), { kind: "xdp", packet: tcpFrame() });
    expect(r.fault).toMatchObject({ pc: 1, kind: "memory" });
    const pkt = runProgram(prog(ldx("u32", "r2", "r1", 0), ldx("u8", "r0", "r2", 60), exit()), { kind: "xdp", packet: tcpFrame() });
    expect(pkt.fault).toMatchObject({ pc: 1, kind: "memory" });
    const wild = runProgram(prog(mov64Imm("r2", 100), ldx("u8", "r0", "r2", 0), exit()), { kind: "xdp", packet: tcpFrame() });
    expect(wild.fault?.message).toContain("0x64");
    expect(runProgram(prog(mov64Imm("r0", 0)), { kind: "xdp", packet: tcpFrame() }).fault?.kind).toBe("jump");
    expect(runProgram(prog(rawInsn(0xb7, 10, 0, 0, 0), exit()), { kind: "xdp", packet: tcpFrame() }).fault?.message).toContain("read-only");
    expect(runProgram(prog(label("l"), ja_("l")), { kind: "xdp", packet: tcpFrame() }, { maxSteps: 1000 }).fault).toMatchObject({ kind: "limit" });
  });

  it("bpf-to-bpf calls get their own stack frame and keep the caller's r6..r9", () => {
    const p = prog(
      mov64Imm("r6", 11),
      st("u64", "r10", -8, 5),
      callLabel("f"),
      ldx("u64", "r1", "r10", -8),
      alu64("add", "r0", "r1"),
      alu64("add", "r0", "r6"),
      exit(),
      label("f"),
      mov64Imm("r6", 1000),
      st("u64", "r10", -8, 77),
      mov64Imm("r0", 100),
      exit(),
    );
    expect(runProgram(p, { kind: "xdp", packet: tcpFrame() }).r0).toBe(116);
  });

  it("32-bit atomics zero-extend fetched values; cmpxchg compares r0", () => {
    const p = prog(st("u64", "r10", -8, -1), mov64Imm("r1", 1), atomic("u32", "fetch_add", "r10", -8, "r1"), mov64Reg("r0", "r1"), exit());
    expect(runProgram(p, { kind: "xdp", packet: tcpFrame() }).r0).toBe(0xffffffff);
    const c = prog(st("u64", "r10", -8, 9), mov64Imm("r0", 9), mov64Imm("r2", 4), atomic("u64", "cmpxchg", "r10", -8, "r2"), ldx("u64", "r0", "r10", -8), exit());
    expect(runProgram(c, { kind: "xdp", packet: tcpFrame() }).r0).toBe(4);
  });
});

const ja_ = (l: string) => jmp("jeq", "r10", "r10", l);

describe("stepping machine", () => {
  const p = prog(
    mov64Imm("r0", 1),
    st("u32", "r10", -4, 0x1234),
    ldx("u32", "r2", "r10", -4),
    alu32("add", "r2", 1),
    jmp("jeq", "r2", 0x1235, "yes"),
    mov64Imm("r0", 0),
    label("yes"),
    exit(),
  );

  it("records register writes, memory accesses, branches and the exit", () => {
    const m = createMachine(p, { kind: "xdp", packet: tcpFrame() });
    const s0 = m.step()!;
    expect(s0).toMatchObject({ step: 1, pc: 0, text: "(b7) r0 = 1", nextPc: 1 });
    expect(s0.regWrites).toEqual([{ reg: 0, before: 0n, after: 1n }]);
    const s1 = m.step()!;
    expect(s1.writes).toEqual([{ region: "stack", offset: 4092, fp: -4, size: 4, value: 0x1234n, address: s1.writes[0].address }]);
    expect(m.state.stackWritten.slice(508)).toEqual(new Uint8Array([1, 1, 1, 1]));
    const s2 = m.step()!;
    expect(s2.reads[0]).toMatchObject({ region: "stack", fp: -4, size: 4, value: 0x1234n });
    m.step();
    const br = m.step()!;
    expect(br.branch).toEqual({ taken: true, target: 6 });
    expect(br.nextPc).toBe(6);
    const ex = m.step()!;
    expect(ex.exit).toEqual({ r0: 1n });
    expect(ex.nextPc).toBeNull();
    expect(m.step()).toBeNull();
    expect(m.state.done).toBe(true);
  });

  it("stepBack restores registers, stack bytes and written-marks exactly", () => {
    const m = createMachine(p, { kind: "xdp", packet: tcpFrame() });
    const states = [m.state];
    while (m.step()) states.push(m.state);
    for (let i = states.length - 1; i > 0; i--) {
      expect(m.stepBack()).not.toBeNull();
      expect(m.state).toEqual(states[i - 1]);
    }
    expect(m.stepBack()).toBeNull();
  });

  it("never modifies the caller's packet; run() agrees with stepping and with runProgram", () => {
    const pkt = tcpFrame();
    const writer = prog(ldx("u32", "r2", "r1", 0), ldx("u32", "r3", "r1", 4), mov64Reg("r4", "r2"), alu64("add", "r4", 1), jmp("jgt", "r4", "r3", "x"), st("u8", "r2", 0, 0xaa), label("x"), ldx("u8", "r0", "r2", 0), exit());
    const m = createMachine(writer, { kind: "xdp", packet: pkt });
    expect(m.run()).toMatchObject({ r0: 0xaa, steps: 8 });
    expect(pkt[0]).toBe(0);
    const r = createRunner(writer, "xdp");
    const copy = pkt.slice();
    expect(r.run({ kind: "xdp", packet: copy }).r0).toBe(0xaa);
    expect(copy[0]).toBe(0xaa); // the runner works in place, as documented
  });
});

describe("robustness", () => {
  it("fuzz: any program either runs to exit or a fault, never a JS exception (stepping and fast path agree)", () => {
    const slot = fc.record({
      code: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0x07, 0x0f, 0x37, 0x3f, 0x97, 0x9f, 0xb7, 0xbf, 0x61, 0x79, 0x7b, 0x63, 0xdb, 0xc3, 0x15, 0x1d, 0x56, 0x85, 0x95, 0x05, 0x06, 0x18, 0x28, 0x40)),
      dst: fc.integer({ min: 0, max: 11 }),
      src: fc.integer({ min: 0, max: 11 }),
      off: fc.integer({ min: -20, max: 20 }),
      imm: fc.oneof(fc.integer({ min: -20, max: 20 }), fc.integer({ min: -0x80000000, max: 0x7fffffff }), fc.constantFrom(4, 5, 6, 7, 26, 113, 0x100, 0x110, 0xe1, 0xf1)),
    });
    fc.assert(
      fc.property(fc.array(slot, { minLength: 1, maxLength: 24 }), fc.constantFrom("xdp", "socket", "tc", "kprobe"), (raw, kind) => {
        const ctx = (kind === "kprobe" ? kprobeSkbContext({ packet: tcpFrame() }) : { kind, packet: tcpFrame() }) as ContextSpec;
        let fast;
        try {
          fast = runProgram(raw, ctx, { maxSteps: 500 });
        } catch (e) {
          expect(e).toBeInstanceOf(PlaygroundError); // only malformed ld_imm64 pairs
          return;
        }
        const m = createMachine(raw, ctx, { maxSteps: 500 });
        let rec = m.step();
        while (rec && !rec.exit && !rec.fault) rec = m.step();
        expect(m.state.steps).toBe(fast.steps);
        expect(m.state.fault ?? undefined).toEqual(fast.fault);
        expect(m.state.regs[0]).toBe(BigInt(fast.r0));
      }),
      { numRuns: 2000 },
    );
  });
});

describe("helper argument checks", () => {
  it("a huge size argument is a fault, not an allocation", () => {
    const p = prog(mov64Imm("r2", 0), mov64Reg("r3", "r10"), mov64Imm("r4", -1), call(26), exit());
    expect(runProgram(p, { kind: "socket", packet: tcpFrame() }).fault).toMatchObject({ pc: 3, kind: "helper" });
  });
});
