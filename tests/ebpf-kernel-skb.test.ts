/**
 * The interpreter's skb-side emulation against the kernel (BPF_PROG_TEST_RUN of socket filter and
 * sched_cls programs): which __sk_buff loads are allowed and what they read, legacy LD_ABS/LD_IND
 * addressing and failure, and bpf_skb_load_bytes. A socket filter's test run sees skb->data after
 * the Ethernet header (dataOffset 14); tc sees the whole frame.
 */
import { describe, expect, it } from "vitest";
import {
  assemble,
  call,
  encodeProgram,
  exit,
  jmp,
  label,
  ldAbs,
  ldInd,
  ldx,
  mov64Imm,
  mov64Reg,
  alu64,
  runProgram,
  SK_BUFF,
  XDP_MD,
  st,
  type AsmItem,
  type ContextSpec,
  type SizeName,
} from "../lib/ebpf";
import { closeFd, progLoad, progTestRun } from "./support/raw-bpf-loader";
import { requires } from "./support/requires";
import { Gen, rng } from "./support/ebpf-gen";

const kernel = requires("ebpf interpreter vs kernel skb", "kernel");

const TYPES = [
  { type: 1, kind: "socket", dataOffset: 14 },
  { type: 3, kind: "tc", dataOffset: 0 },
] as const;

function frame(g: Gen, len: number): Uint8Array {
  const p = new Uint8Array(len).map(() => g.int(0, 255));
  const dst = g.pick([[0, 0, 0, 0, 0, 0], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff], [1, 0, 0x5e, 0, 0, 1], [2, 4, 6, 8, 10, 12]]);
  p.set(dst, 0);
  const type = g.pick([[0x08, 0x00], [0x86, 0xdd], [0x08, 0x06], [0x00, 0x40], [0x81, 0x00]]);
  p.set(type, 12);
  // BPF_PROG_TEST_RUN refuses IPv4/IPv6 frames shorter than their network header (EINVAL).
  if ((type[0] === 0x08 && type[1] === 0x00 && len < 34) || (type[0] === 0x86 && len < 54)) p.set([0x08, 0x06], 12);
  if (len > 14 && g.bool(0.2)) p.set([0xff, 0xff], 14);
  return p;
}

function both(items: AsmItem[], t: { type: number; kind: "socket" | "tc" | "xdp"; dataOffset: number }, packet: Uint8Array) {
  const { raw } = assemble(items);
  const loaded = progLoad({ type: t.type, insns: encodeProgram(raw), logLevel: 1, logSize: 1 << 16 });
  let k: ReturnType<typeof progTestRun> | null = null;
  if (loaded.fd >= 0) {
    k = progTestRun(loaded.fd, { data: packet });
    expect(k.ret, `test run failed with errno ${k.errno}`).toBe(0);
  }
  closeFd(loaded.fd);
  const ours = runProgram(raw, (t.kind === "xdp" ? { kind: "xdp", packet } : { kind: t.kind, packet, dataOffset: t.dataOffset }) as ContextSpec);
  return { loaded, k, ours };
}

const POINTER_FIELDS = new Set<number>([SK_BUFF.data, SK_BUFF.data_end, SK_BUFF.data_meta]);
// Deliberately not modelled: sk and flow_keys are kernel object pointers.
const UNMODELLED = new Set<number>([SK_BUFF.sk, SK_BUFF.sk + 4, SK_BUFF.flow_keys, SK_BUFF.flow_keys + 4]);

describe.skipIf(!kernel)("skb contexts agree with the kernel", () => {
  it("every aligned ctx load (__sk_buff, xdp_md): allowed exactly when the verifier allows it, and reads the same value", () => {
    const g = new Gen(rng(7));
    const packet = frame(g, 74);
    const grids = [
      ...TYPES.map((t) => ({ t, size: SK_BUFF.size, pointers: POINTER_FIELDS })),
      { t: { type: 6, kind: "xdp", dataOffset: 0 } as const, size: XDP_MD.size, pointers: new Set<number>([XDP_MD.data, XDP_MD.data_end, XDP_MD.data_meta]) },
    ];
    let compared = 0;
    for (const { t, size: ctxSize, pointers } of grids) {
      for (const size of ["u8", "u16", "u32", "u64"] as SizeName[]) {
        const bytes = { u8: 1, u16: 2, u32: 4, u64: 8 }[size];
        for (let off = 0; off < ctxSize; off += bytes) {
          if (t.kind !== "xdp" && (UNMODELLED.has(off - (off % 8)) || UNMODELLED.has(off - (off % 4)))) continue;
          const { loaded, k, ours } = both([ldx(size, "r0", "r1", off), exit()], t, packet);
          const where = `${t.kind} ${size} at ${off}`;
          if (loaded.fd < 0) {
            expect(ours.fault?.kind, `${where}: kernel rejects (${loaded.log.trim().split("\n").slice(-2)[0]})`).toBe("ctx");
            continue;
          }
          expect(ours.fault, `${where}: kernel allows`).toBeUndefined();
          if (!pointers.has(off)) expect(ours.retval, where).toBe(k?.retval);
          compared++;
        }
      }
    }
    expect(compared).toBeGreaterThan(150);
  });

  it("LD_ABS / LD_IND: same values, same 0 on a miss, including SKF_NET_OFF and SKF_LL_OFF (random frames)", () => {
    const g = new Gen(rng(11));
    let compared = 0;
    for (let i = 0; i < 120; i++) {
      const t = TYPES[i % 2];
      const packet = frame(g, g.int(14, 90));
      const size = g.pick(["u8", "u16", "u32"] as const);
      const k = g.pick([
        () => g.int(-2, packet.length + 2),
        () => -0x100000 + g.int(-2, packet.length),
        () => -0x200000 + g.int(-2, packet.length + 2),
        () => -0x1000 + g.int(0, 64),
      ])();
      const ind = g.bool(0.4);
      const x = g.int(-8, 40);
      const items: AsmItem[] = [mov64Reg("r6", "r1"), mov64Imm("r7", x), ind ? ldInd(size, "r7", k - x) : ldAbs(size, k), alu64("add", "r0", 1), exit()];
      const { loaded, k: kr, ours } = both(items, t, packet);
      expect(loaded.fd, loaded.log).toBeGreaterThanOrEqual(0);
      expect(ours.fault).toBeUndefined();
      expect(ours.retval, `${t.kind} ${ind ? "ind" : "abs"} ${size} k=${k} len=${packet.length}`).toBe(kr?.retval);
      compared++;
    }
    expect(compared).toBe(120);
  });

  it("bpf_skb_load_bytes: same bytes, same -EFAULT and zeroed buffer past the end", () => {
    const g = new Gen(rng(13));
    for (let i = 0; i < 80; i++) {
      const t = TYPES[i % 2];
      const packet = frame(g, g.int(14, 80));
      const len = g.int(1, 8);
      const off = g.int(0, packet.length + 2);
      const items: AsmItem[] = [
        st("u64", "r10", -8, 0x11111111),
        mov64Imm("r2", off),
        mov64Reg("r3", "r10"),
        alu64("add", "r3", -8),
        mov64Imm("r4", len),
        call(26),
        jmp("jne", "r0", 0, "fail"),
        ldx("u32", "r0", "r10", -8),
        exit(),
        label("fail"),
        ldx("u32", "r0", "r10", -8),
        alu64("xor", "r0", 0xfffff),
        exit(),
      ];
      const { loaded, k, ours } = both(items, t, packet);
      expect(loaded.fd, loaded.log).toBeGreaterThanOrEqual(0);
      expect(ours.retval, `${t.kind} off=${off} len=${len} pkt=${packet.length}`).toBe(k?.retval);
    }
  });
});
