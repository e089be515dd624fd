/**
 * The messages between an isolate pool and its worker processes (Node IPC, "advanced"
 * serialization, so typed arrays cross as they are). Descriptors never cross as numbers alone: a
 * request lists the parent's fds the worker must borrow, a reply lists the worker's fds the parent
 * must take, and both sides duplicate them with pidfd_getfd.
 */
export interface WorkRequest {
  type: "work";
  id: number;
  op: string;
  args: unknown;
  /** Descriptors of the parent process that the operation uses, in order. */
  fds: number[];
}

export interface ReleaseRequest {
  type: "release";
  /** The worker's descriptors the parent has duplicated and that the worker may close now. */
  fds: number[];
}

export type ToWorker = WorkRequest | ReleaseRequest;

export interface SerializedError {
  code: string;
  message: string;
  /** PlaygroundError's position, when it had one. */
  position?: unknown;
  /** A SyscallError's operation and errno, so the parent can rebuild it. */
  syscall?: { op: string; errno: number };
}

export type FromWorker =
  | { type: "ready" }
  | { type: "done"; id: number; result: unknown; fds: number[] }
  | { type: "failed"; id: number; error: SerializedError };
