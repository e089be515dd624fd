import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseProgram } from "../cbpf/parse";
import { generateMix } from "../craft";
import { readCapture, writePcap } from "../pcap";
import { PipelineCache, ebpfVerdictJob, runPipeline } from "./run";
import { decodeShare, encodeShare, captureForShare } from "./share";
import { RunStatus, type PipelineState } from "./types";

const tcpdump = (args: string[]) => execFileSync("tcpdump", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });

function state(filter: string, packets: PipelineState["packets"]): PipelineState {
  const insns = parseProgram(tcpdump(["-y", "EN10MB", "-ddd", filter]));
  return { filter, dlt: 1, snaplen: 262144, optimize: true, target: "socket", cbpf: { ok: true, insns }, packets };
}

describe("runPipeline", () => {
  const dir = mkdtempSync(join(tmpdir(), "pipeline-"));
  const crafted = generateMix(7, 400);
  const file = join(dir, "mix.pcap");
  const bytes = writePcap(crafted, { linkType: 1, nanosecond: true });
  writeFileSync(file, bytes);
  const packets = readCapture(bytes).packets;

  it("shows tcpdump -d/-dd/-ddd text and tcpdump -r's match count", () => {
    for (const filter of ["tcp port 80", "udp or icmp", "ip6", "vlan"]) {
      const r = runPipeline(state(filter, packets));
      expect(r.cbpf?.text.d).toBe(tcpdump(["-y", "EN10MB", "-d", filter]));
      expect(r.cbpf?.text.dd).toBe(tcpdump(["-y", "EN10MB", "-dd", filter]));
      expect(r.cbpf?.text.ddd).toBe(tcpdump(["-y", "EN10MB", "-ddd", filter]));
      // Count what tcpdump keeps by letting it write the matches (its text output may wrap lines).
      const out = join(dir, "out.pcap");
      tcpdump(["-r", file, "-w", out, filter]);
      expect(r.verdicts.cbpf.matched, filter).toBe(readCapture(new Uint8Array(readFileSync(out))).packets.length);
      expect(r.verdicts.count).toBe(packets.length);
    }
  });

  it("marks packets of another link type as skipped and reports compile errors", () => {
    const s = state("ip", packets.slice(0, 3).map((p, i) => ({ ...p, dlt: i === 1 ? 101 : 1 })));
    const r = runPipeline(s);
    expect(Array.from(r.verdicts.cbpf.runs)).toEqual([RunStatus.Ok, RunStatus.Skipped, RunStatus.Ok]);
    // Given the filter compiled for the other link type too, every packet is judged by its own.
    const raw = parseProgram(tcpdump(["-y", "RAW", "-ddd", "ip"]));
    const both = runPipeline({ ...s, programs: [{ dlt: 101, cbpf: { ok: true, insns: raw } }] });
    for (const v of [both.verdicts.cbpf, both.verdicts.ebpf]) expect(Array.from(v.runs)).toEqual([RunStatus.Ok, RunStatus.Ok, RunStatus.Ok]);
    expect(Array.from(both.verdicts.ebpf.values)).toEqual(Array.from(both.verdicts.cbpf.values));
    const refused = runPipeline({ ...s, programs: [{ dlt: 101, cbpf: { ok: false, error: "no such primitive" } }] });
    expect(Array.from(refused.verdicts.cbpf.runs)).toEqual([RunStatus.Ok, RunStatus.Error, RunStatus.Ok]);
    expect(refused.verdicts.cbpf.firstError).toMatch(/DLT 101: no such primitive/);
    const bad = runPipeline({ ...s, cbpf: { ok: false, error: "syntax error" } });
    expect(bad.cbpf).toBeNull();
    expect(bad.compileError).toBe("syntax error");
  });

  it("translates, traces and runs eBPF on every packet, whole or a slice at a time, agreeing with cBPF", () => {
    for (const target of ["socket", "xdp", "tc", "kprobe"] as const) {
      const s = { ...state("tcp port 80 or udp", packets), target };
      const r = runPipeline(s);
      expect(r.ebpf.status, target).toBe("ok");
      expect(r.ebpf.lines.length).toBeGreaterThan(r.cbpf!.insns.length);
      expect(r.trace.status).toBe("ok");
      expect(r.trace.accepted).toBe(true);
      // Known divergences (truncated frames, len) aside, the generated traffic has none here.
      expect(r.verdicts.ebpf.matched, target).toBe(r.verdicts.cbpf.matched);
      expect(Array.from(r.verdicts.mismatches), target).toEqual([]);
      const job = ebpfVerdictJob(s, { cache: new PipelineCache() });
      let rounds = 0;
      while (!job.advance(37)) rounds++;
      expect(rounds).toBeGreaterThan(5);
      expect(Array.from(job.result().values)).toEqual(Array.from(r.verdicts.ebpf.values));
      expect(Array.from(job.result().runs)).toEqual(Array.from(r.verdicts.ebpf.runs));
    }
  });

  it("reuses cached work for the same program and packets", () => {
    const cache = new PipelineCache();
    const s = state("tcp", packets);
    const a = runPipeline(s, { cache });
    const b = runPipeline({ ...s, filter: "tcp " }, { cache });
    expect(b.verdicts.cbpf).toBe(a.verdicts.cbpf);
    const c = runPipeline({ ...s, packets: packets.slice() }, { cache });
    expect(c.verdicts.cbpf).not.toBe(a.verdicts.cbpf);
  });
});

describe("share links", () => {
  it("round-trip the state and the capture", async () => {
    const packets = readCapture(writePcap(generateMix(3, 50), { linkType: 1 })).packets;
    const cap = captureForShare(packets)!;
    expect(cap.count).toBe(50);
    const link = await encodeShare({ filter: "tcp port 80", dlt: 1, snaplen: 65535, optimize: false, target: "xdp", view: { selected: 3 }, capture: cap.bytes });
    expect(link).toMatch(/^[A-Za-z0-9_-]+$/);
    const back = await decodeShare(link);
    expect(back).toMatchObject({ filter: "tcp port 80", dlt: 1, snaplen: 65535, optimize: false, target: "xdp", view: { selected: 3 } });
    expect(readCapture(back.capture!).packets.map((p) => Array.from(p.data))).toEqual(packets.map((p) => Array.from(p.data)));
  });

  it("keeps captures under the limit and refuses damaged links with PlaygroundError", async () => {
    const packets = readCapture(writePcap(generateMix(4, 3000), { linkType: 1 })).packets;
    const cap = captureForShare(packets, 64 * 1024)!;
    expect(cap.bytes.length).toBeLessThanOrEqual(64 * 1024);
    expect(cap.count).toBeLessThan(3000);
    for (const bad of ["", "!!", "AAAA", (await encodeShare({ filter: "", dlt: 1, snaplen: 1, optimize: true, target: "tc" })).slice(0, 10)]) {
      await expect(decodeShare(bad)).rejects.toMatchObject({ name: "PlaygroundError" });
    }
  });
});
