/**
 * The one error type the project throws on bad input. Every parser, validator and reader reports
 * where the problem is, so the UI can underline it and the CLI can print it.
 */
export type ErrorPosition =
  | { kind: "byte"; offset: number } // a byte offset into a file or buffer
  | { kind: "text"; line: number; column: number; offset?: number } // 1-based line and column
  | { kind: "insn"; index: number } // an instruction index in a program
  | { kind: "none" };

export class PlaygroundError extends Error {
  override readonly name = "PlaygroundError";
  constructor(
    /** A stable machine-readable code, e.g. "pcap/truncated", "cbpf/parse", "cbpf/invalid". */
    readonly code: string,
    message: string,
    readonly position: ErrorPosition = { kind: "none" },
  ) {
    super(message);
  }
}

export function isPlaygroundError(e: unknown): e is PlaygroundError {
  return e instanceof PlaygroundError;
}

/**
 * A short description of any value for an error message. Never throws: values from JSON or a UI
 * may carry a `toString` that is not a function, or a getter that throws.
 */
export function describeValue(value: unknown): string {
  if (value === null || typeof value !== "object") {
    if (typeof value === "function") return "a function";
    if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    return String(value);
  }
  return Array.isArray(value) ? "an array" : "an object";
}
