import fc from "fast-check";
import { expect, it } from "vitest";
import { DEFAULT_FC_SEED } from "./support/fast-check-seed";

it("every property runs seeded, and a failure names its seed", () => {
  const expected = process.env.FC_SEED ? undefined : DEFAULT_FC_SEED;
  if (expected !== undefined) expect(fc.readConfigureGlobal().seed).toBe(expected);
  else expect(typeof fc.readConfigureGlobal().seed).toBe("number");
  const failure = fc.check(fc.property(fc.integer(), (n) => n < 10));
  expect(failure.failed).toBe(true);
  expect(failure.seed).toBe(fc.readConfigureGlobal().seed);
  expect(() => fc.assert(fc.property(fc.integer(), (n) => n < 10))).toThrow(new RegExp(`seed: ${failure.seed}`));
});
