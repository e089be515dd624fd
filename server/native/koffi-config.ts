/**
 * Configures koffi for the whole process. Every binding imports this module before it imports
 * koffi, so the settings are in force before the first library is loaded (koffi refuses to change
 * them afterwards).
 *
 * Why the stack: koffi runs synchronous native calls on a stack of its own, 2 MiB by default.
 * libpcap's code generator and optimizer recurse once per block, so a filter of about 1,850 OR'ed
 * hosts compiled without the optimizer overflowed it and the process died with SIGSEGV, while
 * tcpdump, on the main thread's 8 MiB stack, compiled it. 16 MiB is koffi's maximum and twice
 * what tcpdump has, so every filter tcpdump compiles compiles here too (3,000 hosts with the
 * optimizer off, measured).
 */
import * as koffi from "koffi";

export const KOFFI_STACK_BYTES = 16 << 20;

const CONFIGURED = Symbol.for("bpf-playground.koffi.configured");
const holder = globalThis as unknown as Record<symbol, boolean | undefined>;
if (!holder[CONFIGURED]) {
  holder[CONFIGURED] = true;
  try {
    koffi.config({ sync_stack_size: KOFFI_STACK_BYTES });
  } catch {
    // A library was loaded before this module ran (a test's own binding loaded first). Calls still
    // work on the default stack; only very large filters can then overflow it.
  }
}

/** The stack native calls run on in this process (for diagnostics and tests). */
export function koffiStackBytes(): number {
  return koffi.config().sync_stack_size ?? 0;
}
