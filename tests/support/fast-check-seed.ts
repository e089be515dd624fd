/**
 * Every fast-check property in the suite runs from one seed, so a failure can be replayed:
 * FC_SEED=<seed> npx vitest run <file>. The seed is fixed by default (CI is reproducible) and
 * printed with every failure by fast-check itself ("seed: N, path: …"); it is also printed here
 * whenever it is not the default, so a run with a chosen seed says which one it used.
 */
import fc from "fast-check";

export const DEFAULT_FC_SEED = 20261204;

function chosenSeed(): number {
  const raw = process.env.FC_SEED;
  if (raw === undefined || raw === "") return DEFAULT_FC_SEED;
  if (raw === "random") return (Math.random() * 2 ** 31) | 0;
  const n = Number(raw);
  if (!Number.isInteger(n)) throw new Error(`FC_SEED must be an integer or "random", got ${JSON.stringify(raw)}`);
  return n;
}

const seed = chosenSeed();
if (seed !== DEFAULT_FC_SEED) console.log(`fast-check seed: ${seed} (FC_SEED=${seed} replays this run)`);
fc.configureGlobal({ ...fc.readConfigureGlobal(), seed });
