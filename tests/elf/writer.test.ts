/**
 * Writing an object back: unedited, every host object comes back byte for byte (through the
 * container alone and through the structured model, which re-encodes instructions, symbols,
 * relocations and .BTF.ext), and what the writer wrote still loads with `bpftool prog loadall`
 * and counts a packet. The BTF-defined maps read from the object are the maps the kernel made.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { readBpfObject, readElf, writeBpfObject, writeElf } from "../../lib/elf";
import { describeKernel } from "../kernel/support";
import { describeWithObjects, HOSTS, readHostObject } from "../support/bpf-objects";
import { bpftool, scratch } from "./scratch";
import { firstDifference } from "./oracles";

const { dir, pins } = scratch("writer");

describeWithObjects(
  "lib/elf writes objects back",
  () => {
    it.each(HOSTS)("%s: the container alone round-trips byte for byte", (host) => {
      const bytes = readHostObject(host);
      expect(firstDifference(writeElf(readElf(bytes)), bytes)).toBe(-1);
    });

    it.each(HOSTS)("%s: re-encoding every structured part round-trips byte for byte", (host) => {
      const bytes = readHostObject(host);
      const obj = readBpfObject(bytes);
      // Fresh copies, so nothing can lean on views into the original bytes.
      const copy = {
        ...obj,
        programs: obj.programs.map((p) => ({ ...p, insns: p.insns.map((d) => ({ ...d })), relocations: p.relocations.map((r) => ({ ...r })) })),
        symbols: { ...obj.symbols, symbols: obj.symbols.symbols.map((s) => ({ ...s })) },
      };
      const out = writeBpfObject(copy);
      expect(out.length).toBe(bytes.length);
      expect(firstDifference(out, bytes)).toBe(-1);
      expect(readBpfObject(out).programs.map((p) => p.insns)).toEqual(obj.programs.map((p) => p.insns));
    });

    describeKernel("in the running kernel", () => {
      it.each(HOSTS)("%s: the written object loads with bpftool prog loadall; its maps are the ones read from BTF", (host) => {
        const obj = readBpfObject(readHostObject(host));
        const file = join(dir, `${host}.o`);
        writeFileSync(file, writeBpfObject(obj));
        const progs = `/sys/fs/bpf/bpfpg-elfw-${process.pid}-${host}`;
        const maps = `${progs}-maps`;
        pins.push(progs, maps);
        bpftool(["prog", "loadall", file, progs, "pinmaps", maps]);
        for (const m of obj.maps) {
          const shown = JSON.parse(bpftool(["-j", "map", "show", "pinned", join(maps, m.name)])) as Record<string, unknown>;
          expect({ name: shown.name, type: shown.type, max_entries: shown.max_entries, bytes_key: shown.bytes_key, bytes_value: shown.bytes_value }).toEqual({
            name: m.name,
            type: m.typeName,
            max_entries: m.maxEntries,
            bytes_key: m.keySize ?? 0,
            bytes_value: m.valueSize ?? 0,
          });
        }
        if (host === "xdp") {
          const pkt = join(dir, "frame.bin");
          writeFileSync(pkt, new Uint8Array(60));
          expect(bpftool(["prog", "run", "pinned", join(progs, "xdp_host"), "data_in", pkt])).toMatch(/Return value: 2\b/);
          const counts = JSON.parse(bpftool(["-j", "map", "dump", "pinned", join(maps, "counts")])) as { formatted: { key: number; value: number } }[];
          expect(counts.map((e) => e.formatted)).toEqual([{ key: 0, value: 1 }, { key: 1, value: 1 }]);
        }
      });
    });
  },
  ["bpftool"],
);
