/**
 * Register conventions per target and mode, and the checks that keep a caller's override
 * consistent with what each access strategy needs (which registers helpers clobber, where
 * LD_ABS puts its result, which registers hold the packet bounds).
 */
import { PlaygroundError } from "../errors";
import type { RegName } from "../ebpf";
import type { SocketAccess, Target, TranslateAbi, TranslateMode } from "./types";

export type Access = "direct" | "ld_abs" | "helper";

export interface ResolvedAbi {
  readonly abi: TranslateAbi;
  readonly access: Access;
  /** Helper strategy: callee-saved registers for the packet base and length. */
  readonly base?: RegName;
  readonly len?: RegName;
  /** Direct strategy: packet pointers and context. */
  readonly data?: RegName;
  readonly end?: RegName;
  readonly ctx?: RegName;
}

const CALLEE_SAVED: readonly RegName[] = ["r6", "r7", "r8", "r9"];

const fail = (msg: string): PlaygroundError => new PlaygroundError("translate/abi", msg);

function distinct(what: string, regs: Record<string, RegName | undefined>): void {
  const seen = new Map<RegName, string>();
  for (const [name, r] of Object.entries(regs)) {
    if (r === undefined) continue;
    if (r === "r10") throw fail(`${what}: ${name} cannot be r10 (the frame pointer is read-only)`);
    const prev = seen.get(r);
    if (prev !== undefined) throw fail(`${what}: ${name} and ${prev} are both ${r}`);
    seen.set(r, name);
  }
}

function defaults(target: Target, mode: TranslateMode, access: Access): TranslateAbi {
  const whole = mode === "whole";
  switch (access) {
    case "ld_abs":
      return { a: "r0", x: "r7", tmp: "r8", ind: "r9", result: "r0", stackBase: 0 };
    case "direct":
      return whole
        ? { a: "r0", x: "r4", tmp: "r5", ind: "r6", result: "r0", stackBase: 0 }
        : { packetStart: "r4", packetEnd: "r5", a: "r0", x: "r1", tmp: "r2", ind: "r3", result: "r0", stackBase: 0 };
    case "helper":
      return whole
        ? { a: "r6", x: "r7", tmp: "r4", ind: "r5", result: "r0", stackBase: 0 }
        : {
            ...(target === "kprobe" ? { packetStart: "r4", packetEnd: "r5" } : {}),
            ctx: "r1",
            a: "r6",
            x: "r7",
            tmp: "r2",
            ind: "r3",
            result: "r0",
            stackBase: 0,
            // Spliced at the entry of a (static) subprogram, as pwru does, r6..r9 belong to the
            // stub's own frame and start uninitialised: nothing to save. Splicing into the middle
            // of a function with live r6..r9 needs `preserve`.
            preserve: [],
          };
  }
}

export function resolveAbi(
  target: Target,
  mode: TranslateMode,
  socketAccess: SocketAccess | undefined,
  override: Partial<TranslateAbi> | undefined,
): ResolvedAbi {
  const whole = mode === "whole";
  let access: Access;
  if (target === "xdp" || target === "tc") access = "direct";
  else if (target === "kprobe") access = "helper";
  else if (!whole) {
    if (socketAccess === "ld_abs") throw fail("socket body mode cannot use LD_ABS: its implicit exit would leave the host function; use skb_load_bytes");
    access = "helper";
  } else access = socketAccess === "skb_load_bytes" ? "helper" : "ld_abs";

  const abi: TranslateAbi = { ...defaults(target, mode, access), ...(override ?? {}) };
  if (whole && abi.result !== "r0") throw fail(`whole-program mode returns in r0 (abi.result is ${abi.result})`);
  const what = `${target} ${mode} abi`;

  switch (access) {
    case "ld_abs": {
      if (abi.a !== "r0") throw fail(`${what}: LD_ABS/LD_IND write r0, so A must be r0 (got ${abi.a})`);
      for (const [n, r] of [["x", abi.x], ["tmp", abi.tmp]] as const) {
        if (!["r7", "r8", "r9"].includes(r)) throw fail(`${what}: ${n} must be r7, r8 or r9 (LD_ABS clobbers r1..r5, r6 holds ctx), got ${r}`);
      }
      distinct(what, { a: abi.a, x: abi.x, tmp: abi.tmp });
      return { abi, access, ctx: "r6" };
    }
    case "direct": {
      const data = whole ? "r2" : abi.packetStart;
      const end = whole ? "r3" : abi.packetEnd;
      if (data === undefined || end === undefined) throw fail(`${what}: body mode needs packetStart and packetEnd`);
      const ctx = whole ? "r1" : abi.ctx;
      distinct(what, { data, end, ctx, a: abi.a, x: abi.x, tmp: abi.tmp, ind: abi.ind });
      return { abi, access, data, end, ctx };
    }
    case "helper": {
      for (const [n, r] of [["a", abi.a], ["x", abi.x]] as const) {
        if (!CALLEE_SAVED.includes(r)) throw fail(`${what}: ${n} must be one of r6..r9 so helper calls cannot clobber it (got ${r})`);
      }
      const rest = CALLEE_SAVED.filter((r) => r !== abi.a && r !== abi.x);
      const [base, len] = rest as [RegName, RegName];
      for (const [n, r] of [["tmp", abi.tmp], ["ind", abi.ind]] as const) {
        if (CALLEE_SAVED.includes(r)) throw fail(`${what}: ${n} must be one of r0..r5 (r6..r9 hold A, X, base and length), got ${r}`);
      }
      distinct(what, { a: abi.a, x: abi.x, tmp: abi.tmp, ind: abi.ind, base, len });
      if (!whole) {
        const preserve = abi.preserve ?? [];
        if (preserve.includes(abi.result)) throw fail(`${what}: result ${abi.result} is restored on exit; choose r0..r5`);
        if (CALLEE_SAVED.includes(abi.result)) throw fail(`${what}: result must be one of r0..r5 (got ${abi.result})`);
        if (target === "kprobe" && (abi.packetStart === undefined || abi.packetEnd === undefined)) {
          throw fail(`${what}: body mode needs packetStart and packetEnd`);
        }
      }
      return { abi, access, base, len };
    }
  }
}
