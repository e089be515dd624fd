/**
 * The libbpf object loader (server/kernel/object-load.ts) against bpftool, which links the same
 * libbpf: each built host loads with its maps, and the kernel's xlated program of our load is the
 * one it holds for `bpftool prog loadall` of the same file (same instructions, map addresses
 * aside). Bad objects come back as ObjectLoadError with libbpf's errno text, a position and the
 * verifier log; an edited object (lib/elf's replaceInstructions) loads and counts what its new
 * stub decides; and the isolate worker hands back descriptors that work in this process.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { exit, mov64Imm, mov64Reg, type AsmItem } from "../../lib/ebpf";
import { IsolatePool } from "../../server/isolate/pool";
import { dumpProgram } from "../../server/kernel/inspect";
import { kernelInfo } from "../../server/kernel/kernel-info";
import { ArrayMap } from "../../server/kernel/maps";
import { listPrograms } from "../../server/kernel/objects";
import { closeLoadedObject, loadObject, ObjectLoadError, type LoadedObject } from "../../server/kernel/object-load";
import { testRun } from "../../server/kernel/test-run";
import { objGet, BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_RINGBUF } from "../../server/native/bpf";
import { closeFd } from "../../server/native/libc";
import { describeKernel } from "../kernel/support";
import { hostWithStub } from "../support/host-stub";
import { describeWithObjects, exampleObjectPath, hostObjectPath, ROOT, tool } from "../support/bpf-objects";

const OBJECTS = {
  xdp_host: { path: hostObjectPath("xdp"), kind: "xdp" },
  tc_host: { path: hostObjectPath("tc"), kind: "tc" },
  skb_host: { path: hostObjectPath("skb"), kind: "raw_tp" },
  user_host: { path: exampleObjectPath("user_two_stubs"), kind: "xdp" },
} as const;
type ObjectName = keyof typeof OBJECTS;

const bytesOf = (path: string) => new Uint8Array(readFileSync(path));
const loaded: LoadedObject[] = [];
const load = (...a: Parameters<typeof loadObject>): LoadedObject => {
  const r = loadObject(...a);
  loaded.push(r);
  return r;
};
const pins: string[] = [];
afterEach(() => {
  for (const o of loaded.splice(0)) closeLoadedObject(o);
  for (const p of pins.splice(0)) rmSync(p, { recursive: true, force: true });
});

/**
 * The kernel's xlated text with each map reference (an ld_imm64 the dump shows as the map's id)
 * written as the map's place in the program's map list: ids differ per load, the order does not.
 */
function xlatedOf(fd: number): string[] {
  const d = dumpProgram(fd);
  const place = new Map(d.info.mapIds.map((id, i) => [`0x${id.toString(16)}`, i]));
  return d.xlatedText.map((l) => l.replace(/^(\d+: \(18\) r\d+ = )(0x[0-9a-f]+)$/, (m, head: string, v: string) => (place.has(v) ? `${head}map#${place.get(v)}` : m)));
}

function caught(f: () => unknown): ObjectLoadError {
  try {
    f();
  } catch (e) {
    if (e instanceof ObjectLoadError) return e;
    throw e;
  }
  throw new Error("expected an ObjectLoadError");
}

/** The XDP host with its stub's body replaced by `items` (lib/elf's edit, as a splice would). */
const xdpWithStub = (items: AsmItem[]): Uint8Array => hostWithStub("xdp", items);

const frame = () => {
  const b = new Uint8Array(60);
  b.set([0x08, 0x00], 12);
  b.set([0x45, 0, 0, 46, 0, 0, 0, 0, 64, 17], 14);
  return b;
};

function counts(o: LoadedObject): { seen: bigint; matched: bigint } {
  const m = o.maps.find((x) => x.name === "counts")!;
  const map = new ArrayMap(m.fd, m.type, m.keySize, m.valueSize, m.maxEntries);
  return { seen: map.getU64(0), matched: map.getU64(1) };
}

describeWithObjects(
  "the libbpf object loader",
  () => {
    describeKernel("in the running kernel", () => {
      it.each(Object.keys(OBJECTS) as ObjectName[])("loads %s with its maps, and the kernel holds what bpftool loadall makes of it", (name) => {
        const { path, kind } = OBJECTS[name];
        const o = load({ bytes: bytesOf(path), objectName: name });
        expect(o.program).toMatchObject({ name, kind });
        expect(o.programs.map((p) => p.name)).toContain(name);
        const byName = new Map(o.maps.map((m) => [m.name, m]));
        expect(byName.get("counts")).toMatchObject({ type: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, maxEntries: 2 });
        expect(byName.get("events")).toMatchObject({ type: BPF_MAP_TYPE_RINGBUF, maxEntries: 1 << 16 });
        expect(counts(o)).toEqual({ seen: 0n, matched: 0n });

        const pin = `/sys/fs/bpf/bpfpg-loader-${process.pid}-${name}`;
        pins.push(pin, `${pin}-maps`);
        tool("bpftool", ["prog", "loadall", path, pin, "pinmaps", `${pin}-maps`]);
        const theirs = objGet(join(pin, name));
        try {
          expect(dumpProgram(o.fd).counts.xlatedInsns).toBe(dumpProgram(theirs).counts.xlatedInsns);
          expect(xlatedOf(o.fd)).toEqual(xlatedOf(theirs));
        } finally {
          closeFd(theirs);
        }
      });

      it("closing what it returned leaves no program behind (libbpf's own fds were closed with the object)", () => {
        const o = loadObject({ bytes: bytesOf(hostObjectPath("xdp")) });
        const id = listPrograms().find((p) => p.name === "xdp_host" && p.id === dumpProgram(o.fd).info.id)?.id;
        expect(id).toBeGreaterThan(0);
        closeLoadedObject(o);
        expect(listPrograms().some((p) => p.id === id)).toBe(false);
      });

      it("loads the fentry skb host where the kernel allows tracing programs, and reports the kernel's refusal where it does not", () => {
        const bytes = bytesOf(join(ROOT, "bpf", "build", "skb_fentry_host.o"));
        if (kernelInfo().fentry) {
          expect(load({ bytes }).program).toMatchObject({ name: "skb_fentry_host", kind: "fentry" });
        } else {
          console.warn("[loader] this kernel refuses tracing programs: checking the refusal instead of the load");
          const e = caught(() => loadObject({ bytes }));
          expect(e).toMatchObject({ code: "libbpf/load", stage: "load", errnoName: "EPERM" });
          expect(e.message).toMatch(/skb_fentry_host.*Operation not permitted \(EPERM\)/);
          expect(e.libbpfLog).toMatch(/BPF program load failed/);
        }
      });

      it("an object whose stub lib/elf replaced loads, and its counts map says what the new stub decided", () => {
        for (const [verdict, matched] of [[1, 1n], [0, 0n]] as const) {
          const o = load({ bytes: xdpWithStub([mov64Imm("r0", verdict), exit()]) });
          expect(testRun(o.fd, frame(), { type: "xdp" }).retval).toBe(2); // XDP_PASS whatever the stub says
          expect(counts(o)).toEqual({ seen: 1n, matched });
        }
      });

      it("a program the verifier rejects is an error with libbpf's errno text, the log and the instruction", () => {
        // r0 = r7 reads a register the stub never set.
        const e = caught(() => loadObject({ bytes: xdpWithStub([mov64Reg("r0", "r7"), exit()]) }));
        expect(e).toMatchObject({ code: "libbpf/load", errnoName: "EACCES" });
        expect(e.log).toMatch(/R7 !read_ok/);
        expect(e.message).toMatch(/Permission denied \(EACCES\)[\s\S]*verifier log:[\s\S]*R7 !read_ok/);
        expect(e.position).toMatchObject({ kind: "insn" });
      });

      it("pins nothing and reuses no pinned map, whatever the object's maps ask for", () => {
        const bytes = bytesOf(exampleObjectPath("hostile_pins"));
        const path = "/sys/fs/bpf/bpfpg_pin_probe";
        rmSync(path, { force: true });
        pins.push(path); // removed afterwards even if a load did pin it
        const plain = load({ bytes, program: "pinning_xdp" });
        expect(() => readFileSync(path)).toThrow(/ENOENT/);
        closeLoadedObject(loaded.pop()!);
        // A map someone else pinned at the path libbpf would look at stays theirs and untouched.
        tool("bpftool", ["map", "create", path, "type", "array", "key", "4", "value", "8", "entries", "1", "name", "someone_elses"]);
        const o = load({ bytes, program: "pinning_xdp" });
        expect(testRun(o.fd, frame(), { type: "xdp" }).retval).toBe(2);
        const theirs = objGet(path);
        try {
          expect(new ArrayMap(theirs, BPF_MAP_TYPE_ARRAY, 4, 8, 1).getU64(0)).toBe(0n);
          expect(new ArrayMap(o.maps[0]!.fd, BPF_MAP_TYPE_ARRAY, 4, 8, 1).getU64(0)).toBe(1n);
        } finally {
          closeFd(theirs);
        }
        expect(plain.program.name).toBe("pinning_xdp");
      });

      it("refuses a tracing program other than fentry before anything is loaded", () => {
        const e = caught(() => loadObject({ bytes: bytesOf(exampleObjectPath("hostile_pins")), program: "not_fentry" }));
        expect(e).toMatchObject({ code: "libbpf/program-type" });
        expect(e.message).toMatch(/fexit\/__netif_receive_skb.*only fentry/);
      });

      it("asks which program when the name matches none, and names the ones there are", () => {
        const e = caught(() => loadObject({ bytes: bytesOf(hostObjectPath("tc")), program: "nope" }));
        expect(e).toMatchObject({ code: "libbpf/select" });
        expect(e.message).toMatch(/no program "nope".*tc_host \(tc\)/);
        expect(load({ bytes: bytesOf(hostObjectPath("tc")), program: "tc" }).program.name).toBe("tc_host"); // by section
      });
    });

    describe("bad objects", () => {
      it.each([
        ["truncated", (b: Uint8Array) => b.slice(0, 40), { kind: "byte" }],
        ["not ELF", () => new TextEncoder().encode("this is not an object file at all, but long enough for a header"), { kind: "byte" }],
        ["cut in the section headers", (b: Uint8Array) => b.slice(0, b.length - 100), { kind: "byte" }],
      ] as const)("%s: libbpf refuses to open it and lib/elf says where", (_name, mangle, position) => {
        const e = caught(() => loadObject({ bytes: mangle(bytesOf(hostObjectPath("xdp"))) }));
        expect(e).toMatchObject({ code: "libbpf/open", stage: "open", position });
        expect(e.message).toMatch(/libbpf cannot open the object: .*\(/);
      });

      it("libbpf's messages go into the error, never to the process's stderr", () => {
        const dir = mkdtempSync(join(tmpdir(), "bpfpg-loader-"));
        try {
          const script = join(dir, "bad.ts");
          writeFileSync(
            script,
            `import { loadObject } from ${JSON.stringify(join(ROOT, "server/kernel/object-load.ts"))};\n` +
              `try { loadObject({ bytes: new Uint8Array(300).fill(1) }); } catch (e) { process.stdout.write(String((e as Error).message)); }\n`,
          );
          const r = spawnSync(process.execPath, [join(ROOT, "bin", "run-ts.mjs"), script], { encoding: "utf8" });
          expect(r.stdout).toMatch(/libbpf cannot open the object[\s\S]*libbpf: elf: .*not a proper ELF object/);
          expect(r.stderr).toBe("");
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });

      it("refuses an empty object and one past the size bound without calling libbpf", () => {
        expect(caught(() => loadObject({ bytes: new Uint8Array(0) })).message).toMatch(/empty/);
        expect(caught(() => loadObject({ bytes: new Uint8Array(100), maxBytes: 99 })).message).toMatch(/100 bytes; at most 99/);
      });
    });

    describeKernel("in an isolate worker", () => {
      const pool = new IsolatePool({ name: "loader-test", maxWorkers: 1, warmWorkers: 0 });
      afterAll(() => pool.close());

      it("hands the program and map descriptors to this process, and a refusal comes back as data", async () => {
        const { result, fds } = await pool.run("loadObject", { bytes: bytesOf(hostObjectPath("xdp")) }, { budgetMs: 60_000 });
        expect(result.ok).toBe(true);
        try {
          if (!result.ok) throw new Error("not loaded");
          expect(fds).toHaveLength(1 + result.loaded.maps.length);
          expect(testRun(fds[0]!, frame(), { type: "xdp" }).retval).toBe(2);
          const c = result.loaded.maps.findIndex((m) => m.name === "counts");
          expect(new ArrayMap(fds[c + 1]!, BPF_MAP_TYPE_ARRAY, 4, 8, 2).getU64(0)).toBe(1n);
        } finally {
          for (const fd of fds) closeFd(fd);
        }
        const bad = await pool.run("loadObject", { bytes: new Uint8Array(64) }, { budgetMs: 60_000 });
        expect(bad.result).toMatchObject({ ok: false, failure: { code: "libbpf/open" } });
        expect(bad.fds).toEqual([]);
      });

      it("a mangled object is loaded, refused with a reason, or at worst kills its worker; the pool keeps serving", async () => {
        const host = bytesOf(hostObjectPath("tc"));
        const outcomes = new Map<string, number>();
        await fc.assert(
          fc.asyncProperty(fc.array(fc.tuple(fc.nat(host.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), async (edits) => {
            const bytes = host.slice();
            for (const [at, v] of edits) bytes[at] = v;
            let outcome: string;
            try {
              const { result, fds } = await pool.run("loadObject", { bytes }, { budgetMs: 30_000 });
              for (const fd of fds) closeFd(fd);
              if (result.ok) outcome = "loaded";
              else {
                expect(result.failure.code).toMatch(/^libbpf\//);
                expect(result.failure.message.length).toBeGreaterThan(10);
                outcome = result.failure.code;
              }
            } catch (e) {
              expect((e as { code?: string }).code).toBe("isolate/crashed");
              outcome = "isolate/crashed";
            }
            outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
          }),
          { numRuns: 40 },
        );
        console.log(`[loader] 40 mangled tc hosts: ${JSON.stringify(Object.fromEntries(outcomes))}`);
        const { result } = await pool.run("loadObject", { bytes: host }, { budgetMs: 30_000 }).then((r) => (r.fds.forEach(closeFd), r));
        expect(result.ok).toBe(true);
      }, 120_000);
    });
  },
  ["bpftool"],
);
