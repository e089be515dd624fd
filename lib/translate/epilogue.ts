/**
 * What happens at a cBPF `ret` and at "no match": the epilogue variants.
 *
 * - whole / return:  r0 = value; exit
 * - whole / verdict: r0 = match or noMatch; exit
 * - whole / count:   r0 = value; goto the shared counting epilogue (one counter slot: non-matches
 *                    and matches; ring-buffer sample on a match, then r0 = action; exit)
 * - body:            result = value; goto the host's result label (through a shared block that
 *                    restores the callee-saved registers the body borrowed)
 *
 * In whole mode with "return" and "verdict", "no match" is the very code a `ret #0` lowers to, so
 * the no-match label is placed at the first `ret #0` (which keeps its cBPF provenance) and the
 * epilogue only emits its own copy when the program has no `ret #0`. Count and body mode are left
 * alone: there a `ret` jumps to a shared tail, and the no-match block is not a copy of it.
 */
import {
  alu64,
  atomic,
  call,
  exit,
  ja,
  jmp,
  ldMapFd,
  ldx,
  mov32Imm,
  mov32Reg,
  mov64Imm,
  mov64Reg,
  st,
  stx,
  type RegName,
} from "../ebpf";
import { PlaygroundError } from "../errors";
import type { Env, Strategy } from "./strategy";
import type { ResultSpec, TranslateAbi } from "./types";

const BPF_FUNC_map_lookup_elem = 1;
const BPF_FUNC_ringbuf_output = 130;
export const MAX_SAMPLE_BYTES = 256;

export interface Epilogue {
  /** Lowers `ret #k` (a number) or `ret a` ("A"). */
  ret(env: Env, value: number | "A"): void;
  /** Emits the shared tail: the no-match block (if used) and the exit or counting code. */
  finish(env: Env, strategy: Strategy): void;
}

interface Slots {
  result: number;
  key: number;
  event: number;
}

export function makeEpilogue(
  whole: boolean,
  spec: ResultSpec,
  abi: TranslateAbi,
  resultLabel: string | undefined,
  restore: readonly { reg: RegName; slot: number }[],
): Epilogue {
  const A = abi.a;
  if (!whole) return bodyEpilogue(abi, resultLabel!, restore);
  // Whether env.nomatch was placed at a `ret #0` (return and verdict kinds only).
  let nomatchPlaced = false;
  const placeNomatchAtRetZero = (env: Env, v: number | "A") => {
    if (v !== 0 || nomatchPlaced) return;
    env.e.label(env.nomatch);
    nomatchPlaced = true;
  };
  switch (spec.kind) {
    case "return":
      return {
        ret(env, v) {
          placeNomatchAtRetZero(env, v);
          if (v === "A") {
            if (A !== "r0") env.e.emit(mov32Reg("r0", A));
          } else env.e.emit(mov32Imm("r0", v));
          env.e.emit(exit());
        },
        finish(env) {
          if (nomatchPlaced || !env.e.referenced(env.nomatch)) return;
          env.e.label(env.nomatch);
          env.e.emit(mov32Imm("r0", 0), exit());
        },
      };
    case "verdict":
      return {
        ret(env, v) {
          placeNomatchAtRetZero(env, v);
          if (v === "A") env.e.emit(jmp("jeq", A, 0, env.nomatch), mov32Imm("r0", spec.match));
          else env.e.emit(mov32Imm("r0", v !== 0 ? spec.match : spec.noMatch));
          env.e.emit(exit());
        },
        finish(env) {
          if (nomatchPlaced || !env.e.referenced(env.nomatch)) return;
          env.e.label(env.nomatch);
          env.e.emit(mov32Imm("r0", spec.noMatch), exit());
        },
      };
    case "count":
      return countEpilogue(spec, A);
  }
}

function bodyEpilogue(abi: TranslateAbi, resultLabel: string, restore: readonly { reg: RegName; slot: number }[]): Epilogue {
  const R = abi.result;
  const A = abi.a;
  return {
    ret(env, v) {
      if (v === "A") {
        if (A !== R) env.e.emit(mov32Reg(R, A));
      } else env.e.emit(mov32Imm(R, v));
      env.e.emit(ja(restore.length > 0 ? env.e.name("exit") : resultLabel));
    },
    finish(env) {
      const e = env.e;
      const nomatchUsed = e.referenced(env.nomatch);
      if (nomatchUsed) {
        e.label(env.nomatch);
        e.emit(mov32Imm(R, 0));
        if (restore.length === 0) e.emit(ja(resultLabel));
      }
      if (restore.length > 0 && (nomatchUsed || e.referenced(e.name("exit")))) {
        e.label(e.name("exit"));
        for (const { reg, slot } of restore) e.emit(ldx("u64", reg, "r10", slot));
        e.emit(ja(resultLabel));
      }
    },
  };
}

function countEpilogue(spec: Extract<ResultSpec, { kind: "count" }>, A: RegName): Epilogue {
  const bytes = spec.sampleBytes ?? 64;
  if (!Number.isInteger(bytes) || bytes < 0 || bytes > MAX_SAMPLE_BYTES) {
    throw new PlaygroundError("translate/options", `sampleBytes must be an integer in 0..${MAX_SAMPLE_BYTES} (got ${bytes})`);
  }
  for (const [name, fd] of [["countersMapFd", spec.countersMapFd], ["eventsMapFd", spec.eventsMapFd]] as const) {
    if (fd !== undefined && (!Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff)) {
      throw new PlaygroundError("translate/options", `${name} must be a file descriptor (got ${fd})`);
    }
  }
  let slots: Slots | undefined;
  return {
    ret(env, v) {
      if (v === "A") {
        if (A !== "r0") env.e.emit(mov32Reg("r0", A));
      } else env.e.emit(mov32Imm("r0", v));
      env.e.emit(ja(env.e.name("epilogue")));
    },
    finish(env, strategy) {
      const e = env.e;
      slots ??= {
        result: env.stack.alloc(8),
        key: env.stack.alloc(8),
        event: spec.eventsMapFd !== undefined ? env.stack.alloc(8 + bytes) : 0,
      };
      if (e.referenced(env.nomatch)) {
        e.label(env.nomatch);
        e.emit(mov32Imm("r0", 0));
      }
      e.label(e.name("epilogue"));
      e.emit(stx("u32", "r10", slots.result, "r0"));
      strategy.epilogueSave(env);
      // One slot holds both counters, and each packet bumps exactly one of them: [0] packets that
      // did not match, [8] packets that matched. A reader's total is their sum, so whatever
      // moment its copy of the slot was taken at, matched <= total holds in it.
      e.emit(ldMapFd("r1", spec.countersMapFd), st("u32", "r10", slots.key, 0));
      e.emit(mov64Reg("r2", "r10"), alu64("add", "r2", slots.key), call(BPF_FUNC_map_lookup_elem));
      e.emit(ldx("u32", "r1", "r10", slots.result), jmp("jeq", "r0", 0, e.name("counted")), mov64Imm("r2", 1));
      e.emit(jmp("jne", "r1", 0, e.name("hit")), atomic("u64", "add", "r0", 0, "r2"), ja(e.name("done")));
      e.label(e.name("hit"));
      e.emit(atomic("u64", "add", "r0", 8, "r2"));
      e.label(e.name("counted"));
      e.emit(jmp("jeq", "r1", 0, e.name("done")));
      if (spec.eventsMapFd !== undefined) {
        for (let off = 8; off < 8 + bytes; off += 8) e.emit(st("u64", "r10", slots.event + off, 0));
        strategy.sample(env, slots.event, bytes);
        e.emit(ldMapFd("r1", spec.eventsMapFd), mov64Reg("r2", "r10"), alu64("add", "r2", slots.event));
        e.emit(mov64Imm("r3", 8 + bytes), mov64Imm("r4", 0), call(BPF_FUNC_ringbuf_output));
      }
      e.label(e.name("done"));
      e.emit(mov32Imm("r0", spec.action), exit());
    },
  };
}

