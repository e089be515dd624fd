import { describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildIsStale } from "./start";

describe("start: is the built app stale?", () => {
  it("rebuilds when there is no build, and when a source is newer than the build", () => {
    const root = mkdtempSync(join(tmpdir(), "start-"));
    mkdirSync(join(root, "app"));
    mkdirSync(join(root, "lib", "x"), { recursive: true });
    writeFileSync(join(root, "app", "page.tsx"), "");
    writeFileSync(join(root, "lib", "x", "a.ts"), "");
    writeFileSync(join(root, "lib", "x", "a.test.ts"), "");
    expect(buildIsStale(root)).toBe(true);
    mkdirSync(join(root, ".next"));
    writeFileSync(join(root, ".next", "BUILD_ID"), "id");
    const past = new Date(Date.now() - 60_000);
    for (const f of ["app/page.tsx", "lib/x/a.ts", "lib/x/a.test.ts", "app", "lib", "lib/x"]) utimesSync(join(root, f), past, past);
    expect(buildIsStale(root)).toBe(false);
    // Tests do not go into the bundle: touching one rebuilds nothing.
    const future = new Date(Date.now() + 60_000);
    utimesSync(join(root, "lib/x/a.test.ts"), future, future);
    utimesSync(join(root, "lib/x"), past, past);
    expect(buildIsStale(root)).toBe(false);
    utimesSync(join(root, "lib/x/a.ts"), future, future);
    expect(buildIsStale(root)).toBe(true);
  });
});
