/**
 * A scratch directory and bpffs pins for a test file, removed after its tests; and bpftool, the
 * loader these tests check written objects with.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";

export function scratch(name: string): { dir: string; pins: string[] } {
  const dir = mkdtempSync(join(tmpdir(), `bpfpg-elf-${name}-`));
  const pins: string[] = [];
  afterAll(() => {
    for (const p of pins) rmSync(p, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, pins };
}

export const bpftool = (args: string[]): string => execFileSync("bpftool", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
