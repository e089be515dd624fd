/**
 * The CLI contract (ARCHITECTURE.md section 5), exercised through the real `bpf-playground` binary:
 * what outside checks run is what we test.
 */
import { afterAll, describe, it, expect } from "vitest";
import { closeSync, existsSync, ftruncateSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readCapture, writePcap } from "../lib/pcap";
import { tcpdumpMatches, TCPDUMP } from "./support/tcpdump-oracle";
import { BIN, cli, run } from "./support/cli";
import { runCapture } from "../server/run-capture";
import { fileChunks } from "../server/capture-file";

/** GNU time, for a child's peak RSS. */
const TIME = "/usr/bin/time";
/** The largest real capture in ../shared/pcaps. */
const LARGE_SOURCE = join(__dirname, "..", "..", "shared", "pcaps", "tcpdump", "afs.pcap");

describe("bpf-playground compile", () => {
  const cases: [string, string[]][] = [
    ["tcp port 80", []],
    ["tcp port 80", ["--no-optimize"]],
    ["ip broadcast", []],
    ["vlan and udp", []],
    ["ip6 protochain 6", []],
    ["ip", ["--dlt", "RAW"]],
    ["tcp port 80", ["--dlt", "LINUX_SLL"]],
    ["host 198.18.0.1", ["--dlt", "LINUX_SLL2", "--format", "ddd"]],
    ["udp port 53", ["--format", "dd"]],
    ["", []],
  ];
  it.each(cases)("%s %j prints exactly what tcpdump prints", async (filter, flags) => {
    const tcpdumpFlags: string[] = [];
    for (let i = 0; i < flags.length; i++) {
      const f = flags[i]!;
      if (f === "--no-optimize") tcpdumpFlags.push("-O");
      else if (f === "--dlt") tcpdumpFlags.push("-y", flags[++i]!);
      else if (f === "--format") tcpdumpFlags.push(`-${flags[++i]}`);
    }
    if (!tcpdumpFlags.some((f) => f.startsWith("-d"))) tcpdumpFlags.push("-d");
    const [ours, theirs] = await Promise.all([cli("compile", filter, ...flags), run(TCPDUMP, [...tcpdumpFlags, "--", filter])]);
    expect(theirs.code).toBe(0);
    expect(ours.code).toBe(0);
    expect(ours.stdout).toBe(theirs.stdout);
  });

  it("takes a link type by number as well as by name", async () => {
    const [a, b] = await Promise.all([cli("compile", "tcp port 80", "--dlt", "113"), cli("compile", "tcp port 80", "--dlt", "linux_sll")]);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
  });

  it("takes an unquoted filter as tcpdump does", async () => {
    const [a, b] = await Promise.all([cli("compile", "tcp", "port", "80"), cli("compile", "tcp port 80")]);
    expect(a.stdout).toBe(b.stdout);
  });

  it.each(["tcp port", "host 999.1.1.1", "ether host zz:00:00:00:00:00", "ip and and tcp"])(
    "rejects %j with status 1 and libpcap's message",
    async (filter) => {
      const [ours, theirs] = await Promise.all([cli("compile", filter), run(TCPDUMP, ["-d", "--", filter])]);
      expect(theirs.code).not.toBe(0);
      expect(ours.code).toBe(1);
      const message = theirs.stderr.split("\n").find((l) => l.startsWith("tcpdump: "))!.slice("tcpdump: ".length);
      expect(ours.stderr).toContain(message);
      expect(ours.stdout).toBe("");
    },
  );

  it("prints JSON with the instructions", async () => {
    const r = await cli("compile", "ip", "--format", "json");
    const parsed = JSON.parse(r.stdout) as { insns: { code: number }[] };
    expect(parsed.insns.length).toBeGreaterThan(1);
  });

  it("refuses unknown options and link types clearly", async () => {
    const a = await cli("compile", "ip", "--frobnicate");
    expect(a.code).toBe(2);
    expect(a.stderr).toContain("unknown option --frobnicate");
    const b = await cli("compile", "ip", "--dlt", "NOPE");
    expect(b.code).toBe(1);
    expect(b.stderr).toContain("NOPE");
  });
});

describe("what the CLI does not do yet is refused, not accepted and ignored", () => {
  it("refuses run --inject skb (no test run exists for its raw tracepoint) with a reason, before reading the capture", async () => {
    for (const host of ["skb", "kprobe"]) {
      const r = await cli("run", "tcp port 80", "--pcap", "/nonexistent.pcap", "--inject", host);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain("no BPF_PROG_TEST_RUN with packet data for raw_tp programs");
      expect(r.stderr).not.toContain("cannot read");
    }
    const u = await cli("run", "tcp port 80", "--pcap", "/nonexistent.pcap", "--inject", "xdp", "--engine", "kernel");
    expect(u.code).toBe(2);
    expect(u.stderr).toContain("takes no --engine or --target");
  });

  it("takes live (tests/live/cli.test.ts runs it), with its usage errors", async () => {
    const b = await cli("live", "tcp", "--target", "xdp", "--json");
    expect(b.code).toBe(2);
    expect(b.stderr).toContain("live needs --replay FILE");
    const c = await cli("live", "tcp", "--target", "xdp", "--inject", "tc", "--replay", "x.pcap");
    expect(c.code).toBe(2);
    expect(c.stderr).toContain("does not fit it");
    const r = await cli("--help");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("bpf-playground run FILTER --pcap FILE");
    expect(r.stdout).toContain("bpf-playground live FILTER --target");
  });

  it("takes no command name from Object.prototype", async () => {
    const r = await cli("constructor");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown or not yet available command "constructor"');
  });
});

describe("bpf-playground run --engine cbpf", () => {
  const samples = ["http.pcap", "dns-and-icmp.pcap", "vlan-mpls.pcap", "ipv6-ext.pcap", "sll2.pcap", "raw-ip.pcap", "loopback.pcap"];
  const filters = ["tcp port 80", "udp", "ip6", "vlan or mpls", "icmp or icmp6", "len > 200"];

  it.each(samples)("agrees with tcpdump -r on public/samples/%s", async (name) => {
    const path = join(__dirname, "..", "public", "samples", name);
    const cap = readCapture(new Uint8Array(readFileSync(path)));
    const dlt = cap.interfaces[0]!.dlt;
    for (const filter of filters) {
      const ours = await cli("run", filter, "--pcap", path, "--json");
      const theirs = await tcpdumpMatches(cap.packets, dlt, filter, cap.interfaces[0]!.snaplen);
      if (!theirs.ok) {
        expect(ours.code, `${name} ${filter}`).toBe(1);
        continue;
      }
      expect(ours.code, ours.stderr).toBe(0);
      const out = JSON.parse(ours.stdout) as { total: number; matched: number; results: boolean[] };
      expect(out.total).toBe(cap.packets.length);
      expect(out.results).toEqual(theirs.matches);
      expect(out.matched).toBe(theirs.matches.filter(Boolean).length);
    }
  });

  it("keeps the packets before a truncation, names the offset and exits 1", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bpfpg-cli-"));
    const full = readFileSync(join(__dirname, "..", "public", "samples", "http.pcap"));
    const cut = full.subarray(0, full.length - 10);
    const path = join(dir, "cut.pcap");
    writeFileSync(path, new Uint8Array(cut));
    const r = await cli("run", "tcp", "--pcap", path, "--json");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/byte \d+/);
    const out = JSON.parse(r.stdout) as { total: number };
    expect(out.total).toBe(readCapture(new Uint8Array(full)).packets.length - 1);
  });

  it("says so when the file is not a capture or does not exist", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bpfpg-cli-"));
    const path = join(dir, "junk.pcap");
    writeFileSync(path, "this is not a capture file at all");
    const a = await cli("run", "ip", "--pcap", path);
    expect(a.code).toBe(1);
    expect(a.stderr).toMatch(/byte 0|not a/i);
    const b = await cli("run", "ip", "--pcap", join(dir, "missing.pcap"));
    expect(b.code).toBe(1);
    expect(b.stderr).toContain("missing.pcap");
  });

  it("prints a per-packet table without --json", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bpfpg-cli-"));
    const path = join(dir, "two.pcap");
    const eth = (type: number) => Uint8Array.from([...Array(12).fill(1), type >> 8, type & 255, ...Array(46).fill(0)]);
    writeFileSync(path, writePcap([{ data: eth(0x0806) }, { data: eth(0x86dd) }], { linkType: 1 }));
    const r = await cli("run", "arp", "--pcap", path);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("1 of 2 packets matched");
  });
});

describe("bpf-playground run on endless, huge and large input", () => {
  const dir = mkdtempSync(join(tmpdir(), "bpfpg-stream-"));
  const sparse = join(dir, "sparse-1g.bin");
  const tiny = join(dir, "tiny.pcap");
  writeFileSync(tiny, writePcap([{ data: new Uint8Array(60) }], { linkType: 1 }));

  /** Start-up costs (tsx compiles the CLI) are the same for every run: the refusal is what is timed. */
  async function startupMs(): Promise<number> {
    const r = await cli("run", "ip", "--pcap", tiny);
    expect(r.code, r.stderr).toBe(0);
    return r.ms;
  }

  it("the reader itself refuses /dev/zero and a 1 GB sparse file in well under a second", async () => {
    const fd = openSync(sparse, "w");
    ftruncateSync(fd, 1 << 30);
    closeSync(fd);
    expect(statSync(sparse).size).toBe(1 << 30);
    for (const file of ["/dev/zero", sparse]) {
      const t0 = performance.now();
      const outcome = runCapture({ filter: "ip", capture: fileChunks(await open(file, "r")), engine: "cbpf", target: "socket", optimize: true, netmask: 0 });
      await expect(outcome).rejects.toMatchObject({ code: "pcap/format", position: { kind: "byte", offset: 0 } });
      expect(performance.now() - t0).toBeLessThan(1000);
    }
  });

  it("the CLI exits at once with status 1 on /dev/zero and on the sparse file, as tcpdump does", async () => {
    const base = await startupMs();
    for (const file of ["/dev/zero", sparse]) {
      const [ours, theirs] = await Promise.all([
        run(process.execPath, [BIN, "run", "ip", "--pcap", file], { timeoutMs: 60_000 }),
        run(TCPDUMP, ["-r", file, "ip"], { timeoutMs: 60_000 }),
      ]);
      expect(theirs.code).not.toBe(0);
      expect({ file, code: ours.code }).toEqual({ file, code: 1 });
      expect(ours.stderr).toMatch(/not a pcap or pcapng capture: it starts with 00 00 00 00/);
      expect(ours.ms - base).toBeLessThan(1000);
    }
  }, 120_000);

  it("memory follows the chunk size, not the file: a 256 MiB capture of real packets runs in bounded RSS", async () => {
    if (!existsSync(TIME) || !existsSync(LARGE_SOURCE)) {
      const why = `${existsSync(TIME) ? LARGE_SOURCE : TIME} is missing`;
      console.warn(`[cli] memory bound not measured: ${why}`);
      if (process.env.CI) expect.fail(why);
      return;
    }
    const source = readCapture(new Uint8Array(readFileSync(LARGE_SOURCE)));
    const body = writePcap(source.packets, { linkType: source.interfaces[0]!.linkType }).subarray(24);
    const big = join(dir, "big.pcap");
    const fd = openSync(big, "w");
    writeSync(fd, writePcap([], { linkType: source.interfaces[0]!.linkType }));
    const copies = Math.ceil((256 << 20) / body.length);
    for (let i = 0; i < copies; i++) writeSync(fd, body);
    closeSync(fd);
    const size = statSync(big).size;
    try {
      const r = await run(TIME, ["-f", "maxrss_kb=%M", process.execPath, BIN, "run", "ip", "--pcap", big, "--json"], { timeoutMs: 300_000 });
      expect(r.code, r.stderr).toBe(0);
      const rssKb = Number(/maxrss_kb=(\d+)/.exec(r.stderr)?.[1]);
      const out = JSON.parse(r.stdout) as { total: number; matched: number };
      expect(out.total).toBe(source.packets.length * copies);
      const t = await tcpdumpMatches(source.packets, source.interfaces[0]!.dlt, "ip");
      if (!t.ok) throw new Error(t.error);
      expect(out.matched).toBe(t.matches.filter(Boolean).length * copies);
      console.log(`run over ${(size / 2 ** 20).toFixed(0)} MiB (${out.total} packets): max RSS ${(rssKb / 1024).toFixed(0)} MiB`);
      // Node, tsx and the per-packet results, but not the file: reading it whole needed more than its size.
      expect(rssKb * 1024).toBeLessThan(size * 0.75);
    } finally {
      rmSync(big, { force: true });
    }
  }, 300_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));
});
