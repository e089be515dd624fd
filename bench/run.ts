/**
 * `npm run bench [-- --json] [-- --only NAME]`: runs the benchmarks and prints their figures.
 * Benchmarks report; they never fail a build on timing.
 */
import os from "node:os";
import type { Benchmark, BenchFigure } from "./harness";

const MODULES: Record<string, () => Promise<{ default: Benchmark }>> = {
  capture: () => import("./capture.bench"),
  cbpf: () => import("./cbpf.bench"),
  compile: () => import("./compile.bench"),
  kernel: () => import("./kernel.bench"),
  translate: () => import("./translate.bench"),
  agent: () => import("./agent.bench"),
  verifier: () => import("./verifier.bench"),
  ui: () => import("./ui.bench"),
  big: () => import("./big-filters.bench"),
  diff: () => import("./diff.bench"),
  inject: () => import("./inject.bench"),
  "big-frames": () => import("./big-frames.bench"),
  traffic: () => import("./traffic.bench"),
};

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const json = argv.includes("--json");
  const onlyAt = argv.indexOf("--only");
  const only = onlyAt >= 0 ? argv[onlyAt + 1]?.split(",") : undefined;
  const results: { benchmark: string; description: string; figures: BenchFigure[] }[] = [];
  for (const [name, load] of Object.entries(MODULES)) {
    if (only && !only.includes(name)) continue;
    const bench = (await load()).default;
    if (!json) process.stdout.write(`\n== ${bench.name}: ${bench.description}\n`);
    const figures = await bench.run();
    results.push({ benchmark: bench.name, description: bench.description, figures });
    if (!json) {
      for (const f of figures) {
        const base = f.baseline ? `   (${f.baseline.name}: ${fmt(f.baseline.value)} ${f.baseline.unit})` : "";
        process.stdout.write(`  ${f.name}: ${fmt(f.value)} ${f.unit}${base}${f.note ? `  — ${f.note}` : ""}\n`);
      }
    }
  }
  if (json) process.stdout.write(JSON.stringify({ machine: machine(), results }, null, 2) + "\n");
}

function fmt(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString("en-US") : n.toPrecision(3);
}

function machine() {
  return { node: process.version, cpus: os.cpus().length, cpu: os.cpus()[0]?.model, kernel: os.release() };
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
