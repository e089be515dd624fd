/**
 * The body of an isolated worker process: it waits for one request at a time, runs the named
 * operation from the registry, and answers. It holds nothing between requests except descriptors
 * the parent has not yet duplicated. Started by IsolatePool through bin/run-ts.mjs, so it loads
 * the project's TypeScript like the CLI does.
 */
import { isPlaygroundError } from "../../lib/errors";
import { SyscallError } from "../native/errno";
import { closeFd, pidfdGetfd, pidfdOpen } from "../native/libc";
import { OPERATIONS } from "./operations";
import type { FromWorker, SerializedError, ToWorker } from "./protocol";

function send(message: FromWorker): void {
  process.send?.(message);
}

function serialize(e: unknown): SerializedError {
  if (e instanceof SyscallError) return { code: e.code, message: e.message, position: e.position, syscall: { op: e.op, errno: e.errno } };
  if (isPlaygroundError(e)) return { code: e.code, message: e.message, position: e.position };
  return { code: "isolate/internal", message: `the worker failed: ${e instanceof Error ? e.message : String(e)}` };
}

let parentPidfd = -1;
function borrow(fds: readonly number[]): number[] {
  if (fds.length === 0) return [];
  if (parentPidfd < 0) parentPidfd = pidfdOpen(process.ppid);
  return fds.map((fd) => pidfdGetfd(parentPidfd, fd));
}

async function handle(message: ToWorker): Promise<void> {
  if (message.type === "release") {
    for (const fd of message.fds) closeFd(fd);
    return;
  }
  const { id, op, args } = message;
  const run = Object.hasOwn(OPERATIONS, op) ? OPERATIONS[op as keyof typeof OPERATIONS] : undefined;
  let borrowed: number[] = [];
  try {
    if (!run) throw new Error(`unknown operation "${op}"`);
    borrowed = borrow(message.fds);
    const out = await (run as (a: unknown, fds: number[]) => unknown)(args, borrowed);
    const { result, fds } = (out ?? { result: undefined }) as { result: unknown; fds?: number[] };
    send({ type: "done", id, result, fds: fds ?? [] });
  } catch (e) {
    send({ type: "failed", id, error: serialize(e) });
  } finally {
    for (const fd of borrowed) closeFd(fd);
  }
}

// One request at a time: the pool never sends a second before the first is answered, and a
// release may arrive while a request runs (it only closes descriptors).
process.on("message", (m) => void handle(m as ToWorker));
// The parent's death ends the worker: IPC closes, and nothing here outlives the agent or server.
process.on("disconnect", () => process.exit(0));
send({ type: "ready" });
