/**
 * errno numbers to names, and the one error type every failed system call in server/native raises.
 *
 * Names come from Node's own table (os.constants.errno), which is the C library's, so EACCES,
 * ENOSPC, EPERM... are spelled as in errno(3). The agent forwards `errno` and `errnoName` to the UI
 * unchanged, so a verifier rejection (EACCES/EINVAL) and a resource limit (ENOSPC, E2BIG) stay apart.
 */
import { constants } from "node:os";
import { PlaygroundError } from "../../lib/errors";

const NAMES: ReadonlyMap<number, string> = (() => {
  const m = new Map<number, string>();
  for (const [name, value] of Object.entries(constants.errno)) {
    // Several names share a number (EAGAIN/EWOULDBLOCK, EDEADLK/EDEADLOCK): keep the first, the canonical one.
    if (!m.has(value)) m.set(value, name);
  }
  return m;
})();

export function errnoName(errno: number): string {
  return NAMES.get(errno) ?? `E#${errno}`;
}

export const ERRNO = constants.errno;

/** A system call that failed: which operation, and the kernel's errno. */
export class SyscallError extends PlaygroundError {
  readonly errnoName: string;
  constructor(
    /** What was attempted, e.g. "BPF_PROG_LOAD" or "setsockopt(SO_ATTACH_BPF)". */
    readonly op: string,
    readonly errno: number,
    detail?: string,
  ) {
    const name = errnoName(errno);
    super("kernel/syscall", `${op} failed: ${name} (errno ${errno})${detail ? `: ${detail}` : ""}`);
    this.errnoName = name;
  }
}

export function isSyscallError(e: unknown, name?: string): e is SyscallError {
  return e instanceof SyscallError && (name === undefined || e.errnoName === name);
}
