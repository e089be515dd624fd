/**
 * cBPF -> eBPF for the four targets: one pipeline, with the target deciding only the packet
 * access strategy (strategy.ts) and the register convention (abi.ts).
 *
 *   decode (refuse what cannot be cBPF) -> instance graph (unroll backward jumps, drop
 *   unreachable code, turn never-succeeding loads into "no match") -> init analysis (what the
 *   prologue zeroes) -> guard plan -> emission block by block -> epilogue -> assembly.
 */
import { PlaygroundError } from "../errors";
import {
  BPF_PROG_TYPE_KPROBE,
  BPF_PROG_TYPE_SCHED_CLS,
  BPF_PROG_TYPE_SOCKET_FILTER,
  BPF_PROG_TYPE_XDP,
  SKB_LAYOUT_6_18_X86_64,
  NET_DEVICE_IFINDEX_6_18_X86_64,
  assemble,
  exit,
  type Assembled,
  type AsmItem,
  label,
  mov32Imm,
  st,
  stx,
  type RegName,
} from "../ebpf";
import type { CbpfInsn } from "../cbpf";
import { resolveAbi } from "./abi";
import { initNeeds, usesOp } from "./analysis";
import { buildCfg } from "./cfg";
import { decodeProgram } from "./decode";
import { directStrategy } from "./direct";
import { Emitter, StackLayout } from "./emitter";
import { makeEpilogue } from "./epilogue";
import { planGuards, type GuardPlan } from "./guards";
import { helperStrategy } from "./helper";
import { ldAbsStrategy } from "./ldabs";
import { instLabel, lowerInst } from "./lower";
import type { Env, Strategy } from "./strategy";
import { TARGETS, type Provenance, type TranslateOptions, type TranslateResult } from "./types";

export const DEFAULT_LOOP_BOUND = 8;
export const DEFAULT_HEADER_COPY_BYTES = 96;
/** x86_64 `struct pt_regs`: offset of `di`, the first argument. */
export const PT_REGS_DI = 112;

const PROG_TYPE = {
  socket: BPF_PROG_TYPE_SOCKET_FILTER,
  kprobe: BPF_PROG_TYPE_KPROBE,
  tc: BPF_PROG_TYPE_SCHED_CLS,
  xdp: BPF_PROG_TYPE_XDP,
} as const;

const EMPTY_PLAN: GuardPlan = { absAt: new Map(), absKnown: [], indAt: new Map(), indOf: new Map() };

const optionError = (msg: string) => new PlaygroundError("translate/options", msg);

function checkOptions(opts: TranslateOptions): void {
  if (!TARGETS.includes(opts.target)) throw optionError(`unknown target "${String(opts.target)}" (socket, tc, xdp, kprobe)`);
  const mode = opts.mode ?? "whole";
  if (mode !== "whole" && mode !== "body") throw optionError(`unknown mode "${String(mode)}" (whole, body)`);
  if (mode === "body" && !opts.resultLabel) throw optionError("body mode needs a resultLabel to jump to with the result");
  if (mode === "body" && opts.result !== undefined && opts.result.kind !== "return") {
    throw optionError("body mode leaves the value in abi.result; verdict and count epilogues are whole-program only");
  }
  const bound = opts.loopBound ?? DEFAULT_LOOP_BOUND;
  if (!Number.isInteger(bound) || bound < 0 || bound > 64) throw optionError(`loopBound must be an integer in 0..64 (got ${bound})`);
  const prefix = opts.labelPrefix ?? "f";
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(prefix)) throw optionError(`labelPrefix must be an identifier (got "${prefix}")`);
}

/**
 * The codes by which translate() refuses a well-formed cBPF program that it cannot express for
 * the target, as opposed to rejecting bad input or options (a bug in the caller when the program
 * comes from libpcap): an instruction the target has no equivalent for (ancillary fields or
 * SKF_NET_OFF/SKF_LL_OFF on xdp), a translation needing more than the kernel's 512 bytes of stack,
 * a jump beyond eBPF's signed 16-bit offsets.
 */
export const TRANSLATE_REFUSALS: readonly string[] = ["translate/unsupported", "translate/stack", "translate/jump-range"];

/** Whether `e` is one of the translator's documented refusals (TRANSLATE_REFUSALS). */
export function isTranslateRefusal(e: unknown): e is PlaygroundError {
  return e instanceof PlaygroundError && TRANSLATE_REFUSALS.includes(e.code);
}

/** Translates a cBPF program for one target. Throws PlaygroundError (with the cBPF index) when it cannot. */
export function translate(prog: readonly CbpfInsn[], opts: TranslateOptions): TranslateResult {
  checkOptions(opts);
  const target = opts.target;
  const mode = opts.mode ?? "whole";
  const whole = mode === "whole";
  const resolved = resolveAbi(target, mode, opts.socketAccess, opts.abi);
  const abi = resolved.abi;
  const headerCopyBytes = opts.headerCopyBytes ?? DEFAULT_HEADER_COPY_BYTES;
  if (!Number.isInteger(headerCopyBytes) || headerCopyBytes < 0 || headerCopyBytes > 256) {
    throw optionError(`headerCopyBytes must be an integer in 0..256 (got ${headerCopyBytes})`);
  }

  let strategy: Strategy;
  switch (resolved.access) {
    case "direct":
      strategy = directStrategy(target as "xdp" | "tc", abi, { data: resolved.data!, end: resolved.end!, ctx: resolved.ctx });
      break;
    case "ld_abs":
      strategy = ldAbsStrategy(abi);
      break;
    case "helper":
      strategy = helperStrategy(abi, {
        kind: target === "kprobe" ? "probe_read_kernel" : "skb_load_bytes",
        base: resolved.base!,
        len: resolved.len!,
        headerCopyBytes,
        layout: opts.skbLayout ?? SKB_LAYOUT_6_18_X86_64,
        skbArgOffset: opts.skbArgOffset ?? PT_REGS_DI,
        netDeviceIfindex: opts.netDeviceIfindex ?? NET_DEVICE_IFINDEX_6_18_X86_64,
        whole,
        bodyStart: abi.packetStart,
        bodyEnd: abi.packetEnd,
        bodyCtx: abi.ctx,
      });
      break;
  }

  const decoded = decodeProgram(prog);
  const cfg = buildCfg(decoded, opts.loopBound ?? DEFAULT_LOOP_BOUND, (d) => strategy.fails(d));
  const init = initNeeds(cfg);
  const plan = strategy.guarded ? planGuards(cfg) : EMPTY_PLAN;
  const stack = new StackLayout(abi.stackBase, init.memUsed.length > 0 ? Math.max(...init.memUsed) + 1 : 0);
  const e = new Emitter(opts.labelPrefix ?? "f");
  const result = opts.result ?? { kind: "return" as const };
  const notes: string[] = [];
  const env: Env = {
    e,
    stack,
    nomatch: e.name("nomatch"),
    whole,
    needsSample: whole && result.kind === "count" && result.eventsMapFd !== undefined,
    usesLen: usesOp(cfg, "len"),
    notes,
  };

  // Body mode borrows callee-saved registers from the host: spill them first, restore on exit.
  const restore: { reg: RegName; slot: number }[] = [];
  if (!whole) for (const reg of abi.preserve ?? []) restore.push({ reg, slot: stack.alloc(8) });
  strategy.layout(env, cfg, plan);
  const epilogue = makeEpilogue(whole, result, abi, opts.resultLabel, restore);
  const mem = (n: number) => stack.mem(n);

  e.as({ origin: "prologue" }, () => {
    for (const { reg, slot } of restore) e.emit(stx("u64", "r10", slot, reg));
    strategy.prologue(env);
    if (init.a) e.emit(mov32Imm(abi.a, 0));
    if (init.x) e.emit(mov32Imm(abi.x, 0));
    for (const n of init.mem) e.emit(st("u32", "r10", mem(n), 0));
  });

  const ctx = { env, strategy, epilogue, plan, mem };
  for (const blk of cfg.blocks) {
    blk.insts.forEach((id, pos) => {
      const inst = cfg.insts[id]!;
      e.label(instLabel(env, id));
      if (pos === 0) {
        const g = plan.absAt.get(blk.id);
        if (g !== undefined) {
          e.guards++;
          e.as({ origin: "guard", note: `packet holds >= ${g.length} bytes` }, () => strategy.absGuard(env, g.length, g.from));
        }
      }
      const r = plan.indAt.get(id);
      if (r !== undefined) {
        e.guards++;
        e.as({ origin: "guard", note: `X + ${r.start} .. X + ${r.end} inside the packet` }, () => strategy.indGuard(env, r));
      }
      const prov: Provenance = inst.fail !== undefined
        ? { origin: "cbpf", index: inst.d.index, note: inst.fail }
        : inst.iter > 0 ? { origin: "cbpf", index: inst.d.index, note: `loop iteration ${inst.iter}` } : { origin: "cbpf", index: inst.d.index };
      e.as(prov, () => lowerInst(ctx, inst));
    });
  }
  e.as({ origin: "epilogue" }, () => epilogue.finish(env, strategy));

  // Labels of instances nothing jumps to are noise in listings; drop them (and a no-match label
  // placed at a `ret #0` that nothing jumps to).
  const items = e.items.filter(
    (it) => it.kind !== "label" || e.referenced(it.name) || !(it.name.startsWith(`${e.prefix}_i`) || it.name === env.nomatch),
  );
  // Body mode jumps to the host's result label; a stand-in `exit` there makes the body assemble on its own.
  const program = assembleWithProvenance(
    whole ? items : [...items, label(opts.resultLabel!), { ...exit(), meta: { origin: "epilogue", note: "stand-in for the host's result label" } satisfies Provenance }],
  );
  const provenance: Provenance[] = program.origin.map((i) => program.insns[i]!.meta as Provenance);
  const cbpfOfSlot = provenance.map((p) => (p.origin === "cbpf" ? p.index : null));
  const byCbpf: number[][] = prog.map(() => []);
  cbpfOfSlot.forEach((idx, slot) => {
    if (idx !== null) byCbpf[idx]!.push(slot);
  });

  for (const inst of cfg.insts) if (inst.fail !== undefined && inst.iter === 0) notes.push(`cbpf ${inst.d.index} (${inst.d.text}): ${inst.fail}`);
  if (cfg.unrolled) {
    notes.push(
      `backward jumps unrolled: at most ${opts.loopBound ?? DEFAULT_LOOP_BOUND} may be taken on one path; ` +
        "the next makes the filter return 0 (a packet with more protochain headers than that does not match)",
    );
  }
  if (env.usesLen) notes.push(lenNote(target, whole, abi.ctx !== undefined));

  return {
    target,
    mode,
    insns: items,
    program,
    byCbpf,
    cbpfOfSlot,
    provenance,
    stats: {
      cbpfLength: prog.length,
      ebpfSlots: program.slots,
      guards: e.guards,
      guardJumps: e.guardJumps,
      packetLoads: e.packetLoads,
      helperCalls: e.helperCalls,
      cbpfInstances: cfg.insts.length,
    },
    progType: PROG_TYPE[target],
    stackDepth: stack.depth,
    notes,
    abi,
  };
}

function lenNote(target: string, whole: boolean, hasCtx: boolean): string {
  switch (target) {
    case "xdp":
      return "ld #pktlen is data_end - data on xdp: the bytes the program sees, while libpcap uses the length on the wire";
    case "tc":
      return whole || hasCtx ? "ld #pktlen is skb->len" : "ld #pktlen is data_end - data (body mode has no __sk_buff)";
    case "kprobe":
      return whole || hasCtx ? "ld #pktlen is skb->len (read with bpf_probe_read_kernel)" : "ld #pktlen is the linear length data_end - data (no skb pointer given)";
    default:
      return "ld #pktlen is skb->len";
  }
}

/**
 * Assembles, turning an out-of-range jump into an error that names the cBPF instruction the
 * jump was made for (the translation of a very long program can outgrow eBPF's 16-bit offsets).
 */
function assembleWithProvenance(items: readonly AsmItem[]): Assembled {
  try {
    return assemble(items);
  } catch (err) {
    if (!(err instanceof PlaygroundError) || err.code !== "ebpf/offset-range" || err.position.kind !== "insn") throw err;
    const insn = items.filter((it) => it.kind !== "label")[err.position.index];
    const prov = insn?.meta as Provenance | undefined;
    const where = prov?.origin === "cbpf" ? `cbpf ${prov.index}` : `the ${prov?.origin ?? "translated"} code`;
    throw new PlaygroundError(
      "translate/jump-range",
      `${where}: the translated program is too long for this jump (eBPF jump offsets are signed 16-bit, at most 32767 instructions): ${err.message}`,
      { kind: "insn", index: prov?.origin === "cbpf" ? prov.index : 0 },
    );
  }
}
