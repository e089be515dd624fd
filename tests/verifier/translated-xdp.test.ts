/**
 * Translated filters for the xdp target: kernel verifier vs emulator (see translated-runner.ts).
 * Verdicts (accept/reject and errno) must agree on every filter; log lines are compared after
 * normalisation and every remaining difference is printed with the agreement.
 */
import { describe, expect, it } from "vitest";
import { requires } from "../support/requires";
import { printReport, runTranslated } from "./translated-runner";

const enabled = requires("translated filters (xdp)", "kernel");

describe.skipIf(!enabled)("translated filters, xdp", () => {
  it("agree with the kernel", () => {
    const r = runTranslated("xdp");
    printReport("xdp", r);
    expect(r.programs).toBeGreaterThan(100);
    expect(r.acceptDisagree).toEqual([]);
    expect(r.matchedLines / r.totalLines).toBeGreaterThan(0.99);
  }, 600_000);
});
