/**
 * The page and the CLI judge packets with one engine layer (lib/pipeline/judge), so they must give
 * the same verdicts, and tcpdump's, on every target: here on a capture cut to a 60-byte snaplen
 * (`len` is then more than the bytes captured) and on a pcapng whose interfaces have different
 * link types (each is judged by the filter compiled for its own link type). tcpdump refuses a
 * pcapng with two link types, so its answer for that file is the answer for each interface alone.
 * The only verdicts allowed to differ from tcpdump's are the documented divergences
 * (lib/translate/divergences.ts), and the page and the CLI must still agree on those.
 */
import { describe, it, expect, beforeAll } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readCapture, type CaptureReadResult } from "../lib/pcap";
import { ebpfVerdictJob, PipelineCache, runPipeline, RunStatus, type EngineVerdicts, type PipelineState } from "../lib/pipeline";
import { divergencesFor, TARGETS, type Target } from "../lib/translate";
import { compileFilter } from "../server/native/libpcap";
import { captureSnaplen, runCapture } from "../server/run-capture";
import { multiLinkCapture, sharedPcapsMissing, truncatedCapture } from "./support/engine-captures";
import { tcpdumpMatches, TCPDUMP } from "./support/tcpdump-oracle";
import { cli, run } from "./support/cli";

const FILTERS = ["len >= 100", "ip", "tcp", "udp port 4500", "greater 200", "ip and len < 90", "less 60"];

const missing = sharedPcapsMissing();
if (missing) {
  console.warn(`[engines-agree] not run: ${missing}`);
  if (process.env.CI) it("runs on CI, which must provide ../shared/pcaps", () => expect.fail(missing));
}

interface Fixture {
  name: string;
  bytes: Uint8Array;
  read: CaptureReadResult;
  file: string;
}

/** What the page's worker computes: runPipeline for the first link type, the others' programs beside it. */
function pageState(f: Fixture, filter: string, target: Target): PipelineState {
  const compiled = f.read.interfaces.map((itf) => ({
    dlt: itf.dlt,
    cbpf: compileFilter({ filter, dlt: itf.dlt, snaplen: captureSnaplen(itf.snaplen), optimize: true, netmask: 0, savefile: { bigEndian: f.read.byteOrder === "big" } }),
  }));
  const [first, ...others] = compiled;
  return {
    filter, dlt: first!.dlt, snaplen: captureSnaplen(f.read.interfaces[0]!.snaplen), optimize: true, target,
    cbpf: first!.cbpf.ok ? { ok: true, insns: first!.cbpf.insns } : { ok: false, error: first!.cbpf.error },
    programs: others.map((o) => ({ dlt: o.dlt, cbpf: o.cbpf.ok ? { ok: true, insns: o.cbpf.insns } : { ok: false, error: o.cbpf.error } })),
    packets: f.read.packets,
  };
}

function values(v: EngineVerdicts): (number | string)[] {
  return Array.from(v.values, (x, i) => (v.runs[i] === RunStatus.Ok ? x : `run status ${v.runs[i]}`));
}

/** tcpdump's verdict for every packet: each interface's packets through `tcpdump -r` alone, as its own file. */
async function tcpdumpVerdicts(f: Fixture, filter: string): Promise<boolean[]> {
  const out = new Array<boolean>(f.read.packets.length).fill(false);
  for (const [k, itf] of f.read.interfaces.entries()) {
    const idx = f.read.packets.flatMap((p, i) => (p.interfaceIndex === k ? [i] : []));
    const r = await tcpdumpMatches(idx.map((i) => f.read.packets[i]!), itf.dlt, filter, captureSnaplen(itf.snaplen));
    if (!r.ok) throw new Error(`tcpdump refused "${filter}" on DLT ${itf.dlt}: ${r.error}`);
    idx.forEach((i, j) => (out[i] = r.matches[j]!));
  }
  return out;
}

describe.runIf(!missing)("page pipeline = run = tcpdump, on truncated and multi-link captures", () => {
  const fixtures: Fixture[] = [];
  const oracle = new Map<string, boolean[]>();

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "bpfpg-engines-"));
    for (const [name, bytes] of [["snaplen 60", truncatedCapture()], ["two link types", multiLinkCapture()]] as const) {
      const file = join(dir, `${name.replace(/ /g, "-")}.cap`);
      writeFileSync(file, bytes);
      fixtures.push({ name, bytes, read: readCapture(bytes), file });
    }
    for (const f of fixtures) for (const filter of FILTERS) oracle.set(`${f.name}|${filter}`, await tcpdumpVerdicts(f, filter));
  }, 120_000);

  it("the fixtures are what they claim: cut packets; two link types tcpdump itself refuses", async () => {
    const [cut, mixed] = fixtures;
    expect(cut!.read.packets.every((p) => p.data.length <= 60)).toBe(true);
    expect(cut!.read.packets.filter((p) => p.origLen > p.data.length).length).toBeGreaterThan(10);
    expect(new Set(mixed!.read.packets.map((p) => p.dlt)).size).toBe(2);
    const t = await run(TCPDUMP, ["-r", mixed!.file, "ip"]);
    expect(t.stderr).toMatch(/different from the type of the first interface/);
    // On the single-link file tcpdump runs on the file itself: its count is the oracle's.
    const direct = await run(TCPDUMP, ["-r", cut!.file, "-w", "-", "len >= 100"]);
    expect(direct.code).toBe(0);
    const counted = await run(TCPDUMP, ["-r", cut!.file, "len >= 100"]);
    const lines = counted.stdout.split("\n").filter((l) => l.length > 0 && !l.startsWith(" ") && !l.startsWith("\t")).length;
    expect(oracle.get(`${cut!.name}|len >= 100`)!.filter(Boolean).length).toBe(lines);
    expect(lines).toBeGreaterThan(0);
  });

  it("every engine on every target: the page's verdicts equal run's, and tcpdump's up to the documented divergences", async () => {
    const problems: string[] = [];
    const counts: string[] = [];
    for (const f of fixtures) {
      for (const filter of FILTERS) {
        const expected = oracle.get(`${f.name}|${filter}`)!;
        for (const target of TARGETS) {
          const state = pageState(f, filter, target);
          const page = runPipeline(state, { cache: new PipelineCache() });
          // The worker's second phase on large captures: the eBPF column a slice at a time.
          const job = ebpfVerdictJob(state, { cache: new PipelineCache() });
          while (!job.advance(7));
          expect(values(job.result())).toEqual(values(page.verdicts.ebpf));
          for (const engine of ["cbpf", "ebpf"] as const) {
            const where = `${f.name} "${filter}" ${engine} ${target}`;
            const pv = engine === "cbpf" ? page.verdicts.cbpf : page.verdicts.ebpf;
            const ran = await runCapture({ filter, capture: f.bytes, engine, target, optimize: true, netmask: 0 });
            if (!ran.ok) {
              problems.push(`${where}: run refused: ${ran.error}`);
              continue;
            }
            if (pv.status !== "ok") {
              problems.push(`${where}: page ${pv.status} ${pv.message ?? ""}`);
              continue;
            }
            expect({ where, page: values(pv) }).toEqual({ where, page: ran.returnValues });
            expect(pv.matched).toBe(ran.matched);
            counts.push(`${where}: ${ran.matched}/${ran.total} (tcpdump ${expected.filter(Boolean).length})`);
            for (let i = 0; i < expected.length; i++) {
              if (ran.results[i] === expected[i]) continue;
              const p = f.read.packets[i]!;
              const prog = ran.programs.get(p.dlt)!;
              if (engine === "ebpf" && divergencesFor({ prog, target, packet: p.data, wireLen: p.origLen }).length > 0) continue;
              problems.push(`${where}: packet ${i + 1} ours ${ran.results[i]}, tcpdump ${expected[i]}`);
            }
          }
        }
      }
    }
    console.log(counts.join("\n"));
    expect(problems).toEqual([]);
  }, 300_000);

  it("the CLI binary gives the same answers (run --json)", async () => {
    for (const f of fixtures) {
      for (const engine of ["cbpf", "ebpf"]) {
        const out = await cli("run", "ip or len >= 100", "--pcap", f.file, "--engine", engine, "--json");
        expect(out.code, out.stderr).toBe(0);
        const got = JSON.parse(out.stdout) as { total: number; matched: number; results: boolean[] };
        const page = runPipeline(pageState(f, "ip or len >= 100", "socket"));
        const v = engine === "cbpf" ? page.verdicts.cbpf : page.verdicts.ebpf;
        expect(got.total).toBe(f.read.packets.length);
        expect(got.results).toEqual(Array.from(v.values, (x) => x !== 0));
        expect(got.matched).toBe(v.matched);
      }
    }
  }, 120_000);
});
