/** Refusals: a PlaygroundError with code `inject/<reason>`, so callers can tell them apart from other errors. */
import { isPlaygroundError, PlaygroundError, type ErrorPosition } from "../errors";
import type { InjectRefusal } from "./types";

export const INJECT_REFUSALS: readonly InjectRefusal[] = [
  "no-stub",
  "stub-not-static",
  "stub-signature",
  "stub-not-called",
  "wrong-layer",
  "stack",
  "range",
  "ext-info",
  "unsupported-program",
];

export const refuse = (reason: InjectRefusal, message: string, position: ErrorPosition = { kind: "none" }): PlaygroundError =>
  new PlaygroundError(`inject/${reason}`, message, position);

export function isInjectRefusal(e: unknown): e is PlaygroundError {
  return isPlaygroundError(e) && e.code.startsWith("inject/") && (INJECT_REFUSALS as readonly string[]).includes(e.code.slice(7));
}
