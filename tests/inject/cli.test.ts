/**
 * `bpf-playground inject`, run as outside checks run it: --out writes an object bpftool loads,
 * --json describes the splice (its cBPF length is what `tcpdump -d` lists for the filter), --diff
 * prints the inserted hunk and the moved instructions, and the exit statuses follow the CLI
 * contract (1 for a filter error or a refusal, 2 for usage errors).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readBpfObject } from "../../lib/elf";
import { HOST_KINDS, HOST_OBJECTS } from "../../lib/inject";
import { describeKernel } from "../kernel/support";
import { describeWithObjects, exampleObjectPath } from "../support/bpf-objects";
import { cli, run } from "../support/cli";
import { requires } from "../support/requires";
import { TCPDUMP } from "../support/tcpdump-oracle";
import { bpftool, scratch } from "./support";

const { dir, pins } = scratch("inject-cli");

interface InjectJson {
  host: string | null;
  stub: string;
  layer: string;
  section: string;
  access: string;
  reason: string;
  inserted: { sectionIndex: number; start: number; slots: number };
  slotsBefore: number;
  slotsAfter: number;
  cbpfInsns: number;
  also: { stub: string; inserted: { start: number; slots: number }; rejectAll: boolean }[];
  notes: string[];
}

const TIMEOUT = 60_000;

describeWithObjects("bpf-playground inject", () => {
  it.each(HOST_KINDS)("--json for the %s host says where the filter went and how", async (host) => {
    const r = await cli("inject", "tcp port 80", "--host", host, "--json");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as InjectJson;
    expect(j.host).toBe(host);
    expect(j.stub).toBe(HOST_OBJECTS[host].stub);
    expect(j.access).toBe(host === "skb" ? "probe_read_kernel" : "direct");
    expect(j.reason).toContain(`section "${HOST_OBJECTS[host].program}"`);
    expect(j.slotsAfter - j.slotsBefore).toBe(j.inserted.slots + j.also.reduce((n, a) => n + a.inserted.slots, 0));
    expect(j.inserted.slots).toBeGreaterThan(j.cbpfInsns);
    expect(j.also.map((a) => a.stub)).toEqual(host === "skb" ? ["filter_pcap_ebpf_l3"] : []);
    expect(j.notes.length).toBeGreaterThan(0);
  }, TIMEOUT);

  describe.skipIf(!requires("inject --json against tcpdump -d", "tcpdump"))("against tcpdump", () => {
    it("cbpfInsns is the length of tcpdump -d's listing", async () => {
      for (const filter of ["tcp port 80", "arp or icmp", "vlan and udp"]) {
        const [ours, theirs] = await Promise.all([cli("inject", filter, "--host", "xdp", "--json"), run(TCPDUMP, ["-d", "--", filter])]);
        expect(theirs.code).toBe(0);
        expect((JSON.parse(ours.stdout) as InjectJson).cbpfInsns).toBe(theirs.stdout.trim().split("\n").length);
      }
    }, TIMEOUT);
  });

  it("--host kprobe is the skb host", async () => {
    const [a, b] = await Promise.all([cli("inject", "udp", "--host", "kprobe", "--json"), cli("inject", "udp", "--host", "skb", "--json")]);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
  }, TIMEOUT);

  it("an L2-only filter leaves the skb host's L3 stub rejecting everything, and says so", async () => {
    const r = await cli("inject", "arp", "--host", "skb", "--json");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as InjectJson;
    expect(j.also).toMatchObject([{ stub: "filter_pcap_ebpf_l3", rejectAll: true }]);
    expect(j.notes).toContain("filter_pcap_ebpf_l3 rejects every packet: the filter does not compile for RAW (expression rejects all packets)");
  }, TIMEOUT);

  it("--diff shows lib/diff's aligned rows: one insertion hunk (cBPF indices) at the stub, its old body after it, the host unchanged", async () => {
    const [d, j] = await Promise.all([cli("inject", "tcp port 80", "--host", "xdp", "--diff"), cli("inject", "tcp port 80", "--host", "xdp", "--json")]);
    expect(d.code).toBe(0);
    const info = JSON.parse(j.stdout) as InjectJson;
    const lines = d.stdout.split("\n");
    expect(lines.filter((l) => l.startsWith("@@ "))).toEqual([`@@ -0,0 +0,${info.inserted.slots} @@ insert`]);
    const plus = lines.filter((l) => /^\+ +\d+: /.test(l));
    expect(plus).toHaveLength(info.inserted.slots);
    expect(plus.filter((l) => /; cbpf \d+$/.test(l)).length).toBeGreaterThan(info.cbpfInsns / 2);
    // The stub's old body follows the hunk: its first instruction, old slot -> new slot.
    const kept = lines.filter((l) => /^[ ~] +\d+ -> +\d+: /.test(l));
    expect(kept[0]).toMatch(new RegExp(`^ +0 -> +${info.inserted.slots}: `));
    expect(d.stdout).toContain(`+++ .text (${info.slotsAfter} instructions: `);
    // The xdp section calls the stub's start, which did not move: nothing changed there.
    expect(d.stdout).toMatch(/^\+\+\+ xdp \((\d+) instructions: \1 same, 0 moved, \+0 -0 ±0\)$/m);
  }, TIMEOUT);

  it("--object and --stub patch a user's object; --diff shows the pc-relative call that moved by the hunk", async () => {
    const r = await cli("inject", "tcp", "--object", exampleObjectPath("user_two_stubs"), "--stub", "filter_pcap_ebpf_l2", "--diff");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    // `both` calls the L3 stub, which clang put after the L2 stub, pc-relatively: its target moves by the hunk.
    const hunk = Number(/^@@ -\d+,0 \+\d+,(\d+) @@ insert$/m.exec(r.stdout)![1]);
    const m = /^~ +(\d+) -> +(\d+): call \.text:(\d+)  \(was: call \.text:(\d+)\)$/m.exec(r.stdout);
    expect(m).not.toBeNull();
    expect(m![1]).toBe(m![2]);
    expect(Number(m![3]) - Number(m![4])).toBe(hunk);
  }, TIMEOUT);

  describeKernel("--out", () => {
    it.each(HOST_KINDS)("writes a %s object that bpftool prog loadall loads", async (host) => {
      const out = join(dir, `${host}.o`);
      const r = await cli("inject", "ip and (tcp port 80 or udp port 53)", "--host", host, "--out", out);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe("");
      const obj = readBpfObject(new Uint8Array(readFileSync(out)));
      expect(obj.programs.map((p) => p.name)).toContain(HOST_OBJECTS[host].program);
      const pin = `/sys/fs/bpf/bpfpg-inject-cli-${process.pid}-${host}`;
      pins.push(pin);
      bpftool(["prog", "loadall", out, pin]);
    }, TIMEOUT);
  });

  it("exit 1 with libpcap's message for a bad filter, and with the refusal's message", async () => {
    const bad = await cli("inject", "tcp port", "--host", "xdp");
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe("");
    expect(bad.stderr).toMatch(/^bpf-playground inject: .*syntax error.* \(compiled for EN10MB, the link type of filter_pcap_ebpf_l2\)\n$/);
    const refused = await cli("inject", "ip", "--host", "xdp", "--stub", "filter_pcap_ebpf_l3");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe("bpf-playground inject: no function named filter_pcap_ebpf_l3 in the object (stubs here: filter_pcap_ebpf_l2)\n");
    const missing = await cli("inject", "ip", "--object", join(dir, "nope.o"));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("nope.o does not exist");
  }, TIMEOUT);

  it("exit 2 with the usage for usage errors", async () => {
    for (const args of [["ip"], ["ip", "--host", "sk_msg"], ["--host", "xdp"], ["ip", "--host", "xdp", "--bogus"], ["ip", "--host"]]) {
      const r = await cli("inject", ...args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain("bpf-playground inject FILTER --host xdp|tc|skb|kprobe");
    }
    const help = await cli("--help");
    expect(help.stdout).toContain("bpf-playground inject FILTER --host xdp|tc|skb|kprobe [--object FILE.o] [--stub NAME] [--out FILE.o]");
  }, TIMEOUT);
});
