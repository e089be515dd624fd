/**
 * What an isolated worker can be asked to do. Each operation is a plain function of structured-
 * clonable arguments and the descriptors it borrowed from the parent; it returns its result and,
 * optionally, descriptors of its own for the parent to take over. Keep these thin: the real work
 * lives in server/native and server/kernel, and the same functions run in-process elsewhere.
 */
import { fstatSync, openSync } from "node:fs";
import { compileFilter, type CompileFilterOptions, type CompileFilterResult } from "../native/libpcap";
import { compileForPage, type CompileRequest, type CompileResponse } from "../web/page-compile";

export interface Output<R> {
  result: R;
  /** The worker's descriptors the parent must duplicate (they are closed here afterwards). */
  fds?: number[];
}

export const OPERATIONS = {
  /** libpcap's pcap_compile: untrusted filter text reaches a native library only here. */
  compile: (args: CompileFilterOptions): Output<CompileFilterResult> => ({ result: compileFilter(args) }),
  /** The page's compile: libpcap's program, or its error placed on the text. */
  pageCompile: (args: CompileRequest): Output<CompileResponse> => ({ result: compileForPage(args) }),
  /** For tests of the pool itself: sleeps, spins or crashes on request. */
  probe: async (
    args: { sleepMs?: number; spinMs?: number; crash?: boolean; openDevNull?: boolean },
    fds: number[],
  ): Promise<Output<{ pid: number; borrowedSizes: number[] }>> => {
    if (args.crash) process.kill(process.pid, "SIGSEGV");
    if (args.sleepMs) await new Promise((r) => setTimeout(r, args.sleepMs));
    const until = Date.now() + (args.spinMs ?? 0);
    while (Date.now() < until);
    const borrowedSizes = fds.map((fd) => fstatSync(fd).size);
    return { result: { pid: process.pid, borrowedSizes }, fds: args.openDevNull ? [openSync("/dev/null", "r")] : [] };
  },
} as const;

export type Operations = typeof OPERATIONS;
export type OpName = keyof Operations;
export type OpArgs<K extends OpName> = Parameters<Operations[K]>[0];
export type OpResult<K extends OpName> = Awaited<ReturnType<Operations[K]>>["result"];
