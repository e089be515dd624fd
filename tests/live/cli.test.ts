/**
 * `bpf-playground live`, run as outside checks run it (the real binary), against tcpdump.
 *
 * Each target replays three Ethernet captures into the demo veth: a generated mix (lib/craft,
 * written with lib/pcap's writer; its IPv4 addresses are mostly from 198.18.0.0/15, the demo
 * network's range) and two of ../shared/pcaps. The counters must equal `tcpdump -r`'s matches,
 * and every frame sent must be counted (total = sent = frames in the file).
 *
 * The tc and socket hooks run after the kernel has taken an outer 802.1Q/802.1ad tag off the
 * frame (skb_vlan_untag in __netif_receive_skb_core, unconditional), so for those two the oracle
 * is tcpdump over the frames as the hook sees them: outer tag removed. xdp and the skb tracepoint
 * see the frame as sent. The mix has VLAN-tagged frames, so both cases are exercised.
 *
 * The skb target's counting program counts skbs whose device is the demo veth; filters name
 * 198.18.0.0/15 so that what they match is this test's own traffic in any case.
 */
import type { LiveResult } from "../../server/cli/live";
import { spawn } from "node:child_process";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { generateMix } from "../../lib/craft";
import { readCapture, writePcap } from "../../lib/pcap";
import { listLinks, listPrograms } from "../../server/kernel/objects";
import { describeKernel } from "../kernel/support";
import { BIN, cli } from "../support/cli";
import { tcpdumpMatches } from "../support/tcpdump-oracle";
import { SHARED_PCAPS } from "../support/engine-captures";
import { gate } from "../support/requires";

const dir = mkdtempSync(join(tmpdir(), "bpfpg-live-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The mix: untruncated frames the veth's 1500-byte MTU takes. */
function mixFile(): string {
  const packets = generateMix(11, 3000, { truncatedShare: 0 }).filter((p) => p.data.length <= 1514);
  const file = join(dir, "mix.pcap");
  writeFileSync(file, writePcap(packets.map((p) => ({ ...p, interfaceIndex: 0 })), { linkType: 1, snaplen: 262144 }));
  return file;
}

/** Two Ethernet captures of ../shared/pcaps, all frames whole and within the veth's MTU. */
const SHARED = [
  { name: "mptcp-v0", file: join(SHARED_PCAPS, "tcpdump", "mptcp-v0.pcap"), filter: "tcp[tcpflags] & tcp-syn != 0 or tcp port 80" },
  { name: "afs", file: join(SHARED_PCAPS, "tcpdump", "afs.pcap"), filter: "udp port 7000 or udp port 7003 or greater 300" },
];
const sharedHere = gate("live over ../shared/pcaps", SHARED.filter((c) => !existsSync(c.file)).map((c) => `${c.file} is missing`));
const CAPTURES = [{ name: "mix", file: mixFile(), filter: "tcp or (udp and net 198.18.0.0/15) or vlan" }, ...(sharedHere ? SHARED : [])];
/** A short capture for the runs that only need some traffic. */
const SHORT = sharedHere ? SHARED[0]! : CAPTURES[0]!;

/** A capture of link type RAW (IPv4 without a link header). */
function rawIpFile(): string {
  const file = join(dir, "raw.pcap");
  const packets = generateMix(3, 20, { dlt: 12 });
  writeFileSync(file, writePcap(packets.map((p) => ({ ...p, interfaceIndex: 0 })), { linkType: 101, snaplen: 262144 }));
  return file;
}

const VLAN_TPIDS = [0x8100, 0x88a8, 0x9100];

/** The frame as an skb hook after the kernel's receive path sees it: its outer VLAN tag moved to skb metadata. */
function untagged(data: Uint8Array): Uint8Array {
  if (data.length < 18 || !VLAN_TPIDS.includes((data[12]! << 8) | data[13]!)) return data;
  const out = new Uint8Array(data.length - 4);
  out.set(data.subarray(0, 12));
  out.set(data.subarray(16), 12);
  return out;
}

async function expectedMatches(file: string, filter: string, target: string): Promise<{ frames: number; matched: number }> {
  const packets = readCapture(new Uint8Array(readFileSync(file))).packets;
  const seen = target === "tc" || target === "socket" ? packets.map((p) => ({ data: untagged(p.data), origLen: untagged(p.data).length })) : packets.map((p) => ({ data: p.data, origLen: p.data.length }));
  const r = await tcpdumpMatches(seen, 1, filter);
  if (!r.ok) throw new Error(r.error);
  return { frames: packets.length, matched: r.matches.filter(Boolean).length };
}

type Live = Pick<LiveResult, "sent" | "total" | "matched" | "events" | "pps" | "skipped">;

async function live(args: string[]): Promise<Live> {
  const r = await cli("live", ...args, "--json");
  if (r.code !== 0) throw new Error(`live exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Live;
}

const measured: string[] = [];
afterAll(() => console.log(`[live] ${measured.join("; ")}`));

describeKernel("bpf-playground live", () => {
  for (const target of ["xdp", "tc", "socket", "skb"]) {
    for (const c of CAPTURES) {
      it(`--target ${target} over ${c.name}: the counters are tcpdump -r's matches, every frame counted`, async () => {
        const want = await expectedMatches(c.file, c.filter, target);
        const got = await live([c.filter, "--target", target, "--replay", c.file]);
        measured.push(`${target} ${c.name}: ${got.sent} frames at ${got.pps} pps`);
        expect(want.matched).toBeGreaterThan(0);
        expect(want.matched).toBeLessThan(want.frames);
        expect({ sent: got.sent, total: got.total, matched: got.matched, skipped: got.skipped }).toEqual({ sent: want.frames, total: want.frames, matched: want.matched, skipped: 0 });
        // Events are samples of matched packets: never more than those.
        expect(got.events).toBeLessThanOrEqual(got.matched);
      }, 60_000);
    }
  }

  for (const c of sharedHere ? [CAPTURES[0]!, SHORT] : [CAPTURES[0]!]) {
    it(`--inject xdp over ${c.name}: the patched host's counts are tcpdump -r's matches`, async () => {
      const want = await expectedMatches(c.file, c.filter, "xdp");
      const got = await live([c.filter, "--inject", "xdp", "--replay", c.file]);
      measured.push(`inject xdp ${c.name}: ${got.pps} pps`);
      expect({ sent: got.sent, total: got.total, matched: got.matched }).toEqual({ sent: want.frames, total: want.frames, matched: want.matched });
    }, 60_000);
  }

  it("--rate paces the replay", async () => {
    const got = await live(["tcp", "--target", "xdp", "--replay", SHORT.file, "--rate", "500"]);
    expect(got.total).toBe(got.sent);
    // At 500/s: the measured rate is the asked one, within 20%.
    expect(got.pps).toBeGreaterThan(400);
    expect(got.pps).toBeLessThan(600);
  }, 60_000);

  it("a non-Ethernet capture is refused before anything is brought up", async () => {
    const r = await cli("live", "ip", "--target", "xdp", "--replay", rawIpFile(), "--json");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not Ethernet \(EN10MB\)/);
  }, 30_000);

  it("an invalid filter fails (at attach, after demoUp) with libpcap's message, after taking the network down", async () => {
    const child = spawn(process.execPath, [BIN, "live", "tcp port", "--target", "tc", "--replay", SHORT.file, "--json"], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const status = await new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
    expect(status).toBe(1);
    expect(stderr).toContain("syntax error");
    const prefix = `bpg${child.pid!.toString(36)}`;
    const links = JSON.parse(execFileSync("ip", ["-j", "link", "show"], { encoding: "utf8" })) as { ifname: string }[];
    expect(links.filter((l) => l.ifname.startsWith(prefix))).toEqual([]);
  }, 30_000);

  it("frames larger than the veth takes are skipped, and said to be", async () => {
    const base = readCapture(new Uint8Array(readFileSync(SHORT.file))).packets;
    const jumbo = new Uint8Array(2000);
    jumbo.set(base[0]!.data);
    const packets = [...base, { ...base[0]!, data: jumbo, origLen: jumbo.length }];
    const file = join(dir, "with-jumbo.pcap");
    writeFileSync(file, writePcap(packets, { linkType: 1, snaplen: 262144 }));
    const want = await expectedMatches(SHORT.file, SHORT.filter, "xdp");
    const got = await live([SHORT.filter, "--target", "xdp", "--replay", file]);
    expect({ sent: got.sent, total: got.total, matched: got.matched, skipped: got.skipped }).toEqual({ sent: base.length, total: base.length, matched: want.matched, skipped: 1 });
  }, 60_000);

  /** Starts a slow live run and resolves once its XDP link exists on its veth. */
  async function attachedRun(): Promise<{ child: ReturnType<typeof spawn>; prefix: string; link: { id: number; progId: number }; ours: () => { ifindex: number; ifname: string } | null }> {
    const child = spawn(process.execPath, [BIN, "live", "tcp", "--target", "xdp", "--replay", CAPTURES[0]!.file, "--rate", "1000", "--json"], { stdio: "ignore" });
    const prefix = `bpg${child.pid!.toString(36)}`;
    const ours = (): { ifindex: number; ifname: string } | null => {
      const links = JSON.parse(execFileSync("ip", ["-j", "link", "show"], { encoding: "utf8" })) as { ifindex: number; ifname: string }[];
      return links.find((l) => l.ifname.startsWith(prefix)) ?? null;
    };
    let link: { id: number; progId: number } | undefined;
    const t0 = Date.now();
    while (!link && Date.now() - t0 < 30_000) {
      const veth = ours();
      if (veth) link = listLinks().find((l) => l.ifindex === veth.ifindex);
      if (!link) await new Promise((r) => setTimeout(r, 50));
    }
    expect(link, "the live run attached within 30 s").toBeDefined();
    await new Promise((r) => setTimeout(r, 300)); // into the replay
    expect(child.exitCode).toBeNull();
    return { child, prefix, link: link!, ours };
  }

  for (const [sig, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    it(`${sig} during a live run tears down before exiting (status ${code})`, async () => {
      const { child, link, ours } = await attachedRun();
      child.kill(sig);
      const status = await new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
      expect(status).toBe(code);
      // Torn down by the process itself: the veth and the link are gone when it has exited.
      expect(ours()).toBeNull();
      expect(listLinks().filter((l) => l.id === link.id)).toEqual([]);
    }, 60_000);
  }

  it("SIGKILL during a live run leaves no program, link, namespace or veth", async () => {
    const { child, prefix, link, ours } = await attachedRun();
    // Its descendants (the namespace holder, the traffic source, the kernel-work workers) must die with it.
    const descendants = (pid: number): number[] => {
      let kids: number[] = [];
      try {
        kids = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
      } catch {
        return [];
      }
      return kids.flatMap((k) => [k, ...descendants(k)]);
    };
    const family = descendants(child.pid!);
    expect(family.length).toBeGreaterThanOrEqual(2);
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    // The kernel releases links, programs and the namespace asynchronously: give it a few seconds.
    const gone = () => ours() === null && !listLinks().some((l) => l.id === link.id) && !listPrograms().some((p) => p.id === link.progId);
    const t1 = Date.now();
    while (!gone() && Date.now() - t1 < 10_000) await new Promise((r) => setTimeout(r, 100));
    const alive = () => family.filter((pid) => { try { return !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z "); } catch { return false; } });
    while (alive().length > 0 && Date.now() - t1 < 10_000) await new Promise((r) => setTimeout(r, 100));
    expect(alive()).toEqual([]);
    expect(ours()).toBeNull();
    expect(listLinks().filter((l) => l.id === link.id)).toEqual([]);
    expect(listPrograms().filter((p) => p.id === link.progId)).toEqual([]);
    // The namespace was never named (netns.ts): nothing of ours under ip netns either.
    expect(execFileSync("ip", ["netns", "list"], { encoding: "utf8" })).not.toContain(prefix);
  }, 60_000);
});
