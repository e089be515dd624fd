/**
 * The committed sample captures are exactly what the generator makes, stay small, and read the
 * same in tcpdump as in our reader (packet count and timestamps), except multi-link.pcapng, which
 * libpcap 1.10 refuses by design.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readCapture } from "../pcap";
import { buildSamples, sampleIndex } from "./samples";

const DIR = join(__dirname, "..", "..", "public", "samples");

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

describe("sample captures", () => {
  const samples = buildSamples();

  it("the generator is deterministic", () => {
    const again = buildSamples();
    expect(again.map((s) => Array.from(s.bytes))).toEqual(samples.map((s) => Array.from(s.bytes)));
  });

  it("committed files and index.json match the generator", () => {
    for (const s of samples) {
      const path = join(DIR, s.file);
      expect(existsSync(path), `${s.file} is committed`).toBe(true);
      expect(sameBytes(new Uint8Array(readFileSync(path)), s.bytes), `${s.file} is up to date (run scripts/gen-samples.ts)`).toBe(true);
      expect(s.bytes.length).toBeLessThan(100_000);
    }
    expect(JSON.parse(readFileSync(join(DIR, "index.json"), "utf8"))).toEqual(sampleIndex(samples));
  });

  for (const s of samples) {
    it(`${s.file}: tcpdump agrees on packets and timestamps`, () => {
      const r = readCapture(s.bytes);
      expect(r.error).toBeUndefined();
      const out = spawnSync("tcpdump", ["-r", join(DIR, s.file), "-n", "-tt", "--time-stamp-precision=nano", "-q"], { encoding: "utf8" });
      if (s.file === "multi-link.pcapng") {
        expect(out.stderr).toMatch(/different from the type of the first interface/);
        return;
      }
      const stamps = out.stdout.split("\n").filter((l) => /^\d+\.\d{9} /.test(l)).map((l) => l.split(" ")[0]);
      expect(stamps).toEqual(r.packets.map((p) => `${p.tsSec}.${String(p.tsNsec).padStart(9, "0")}`));
    });
  }
});
