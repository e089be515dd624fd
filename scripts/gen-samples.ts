/**
 * Writes the sample captures under public/samples/ and their index.json. The captures come from
 * lib/craft/samples.ts with fixed seeds and timestamps, so running this again gives the same bytes.
 *
 *   node bin/run-ts.mjs scripts/gen-samples.ts
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildSamples, sampleIndex } from "../lib/craft/samples";

const OUT = join(process.cwd(), "public", "samples");
const samples = buildSamples();
const index = sampleIndex(samples);
for (const entry of index.samples) {
  if (entry.error) throw new Error(`${entry.file}: generated capture does not read back: ${entry.error}`);
  if (entry.bytes > 100_000) throw new Error(`${entry.file}: ${entry.bytes} bytes, over the 100 KB budget`);
}
mkdirSync(OUT, { recursive: true });
for (const s of samples) writeFileSync(join(OUT, s.file), s.bytes);
writeFileSync(join(OUT, "index.json"), JSON.stringify(index, null, 2) + "\n");
for (const s of index.samples) console.log(`${s.file.padEnd(18)} ${String(s.packets).padStart(4)} packets ${String(s.bytes).padStart(7)} bytes  ${s.linkTypes.join(", ")}`);
