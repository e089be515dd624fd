/**
 * The agent's loadObject: host objects (bpf/build, their stub's body replaced by hand-written
 * eBPF through lib/elf) loaded with libbpf in a worker, then test-run, inspected, attached to the
 * demo network and streamed, and unloaded; and bad objects answered with libbpf's reasons.
 *
 * The verdicts are tcpdump's: the stub tests "IPv4 carrying TCP", which is `ip proto 6`. A host
 * returns XDP_PASS / TCX_NEXT for every packet, so a retval verdict would say "all match"; the
 * agent reads the host's counts map instead, and this file checks that it does.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { fromBase64, toBase64, type AgentClient, type StreamMessage } from "../../lib/protocol";
import { mov64Reg, exit } from "../../lib/ebpf";
import { startAgent, type RunningAgent } from "../../server/agent/server";
import { listLinks, listPrograms } from "../../server/kernel/objects";
import { mapIds as allMapIds } from "../../server/native/bpf";
import { describeKernel } from "../kernel/support";
import { ethIpv4, sampleFrames } from "../kernel/frames";
import { compileAndInject } from "../../server/inject";
import { describeWithObjects, readHostObject } from "../support/bpf-objects";
import { hostWithStub, ipv4TcpStub, IPV4_TCP_FILTER } from "../support/host-stub";
import { tcpdumpMatches } from "../support/tcpdump-oracle";
import { connect, until } from "./support";
import { expectEventsOfFrames } from "./stream-checks";

const XDP_PASS = 2;
const TCX_NEXT = 0xffffffff;
/** The demo network carries Ethernet frames without VLAN tags. */
const frames = sampleFrames().filter((f) => ((f[12]! << 8) | f[13]!) !== 0x8100);

describeWithObjects("agent: loadObject", () => {
  describeKernel("agent: objects loaded with libbpf", () => {
    let agent: RunningAgent;
    let client: AgentClient;
    let matches: boolean[] = [];
    beforeAll(async () => {
      agent = await startAgent();
      client = await connect(agent.url);
      const oracle = await tcpdumpMatches(frames.map((f) => ({ data: f, origLen: f.length })), 1, IPV4_TCP_FILTER);
      if (!oracle.ok) throw new Error(oracle.error);
      matches = oracle.matches;
    });
    afterAll(async () => {
      client?.close();
      await agent?.close();
    });

    it.each([
      ["xdp", "xdp_host", XDP_PASS],
      ["tc", "tc_host", TCX_NEXT],
    ] as const)("%s host: loadObject, testRun verdicts from the counts map equal tcpdump's, inspect, unload", async (host, name, passes) => {
      expect(matches.some(Boolean) && !matches.every(Boolean)).toBe(true);
      const o = await client.request("loadObject", { object: toBase64(hostWithStub(host, ipv4TcpStub())) });
      expect(o).toMatchObject({ name, progType: host, section: host, verdictSource: "counts" });
      expect(o.maps.map((m) => m.name).sort()).toEqual(["counts", "events"]);
      expect(o.log).toMatch(/processed \d+ insns/);
      expect(listPrograms().some((p) => p.id === o.progId)).toBe(true);

      const run = await client.request("testRun", { handle: o.handle, packets: frames.map(toBase64) });
      expect(run.verdictSource).toBe("counts");
      expect(run.results.map((r) => (r.status === "ok" ? r.retval : r.message))).toEqual(frames.map(() => passes));
      expect(run.results.map((r) => r.status === "ok" && r.match)).toEqual(matches);
      expect(run.matched).toBe(matches.filter(Boolean).length);
      // repeat: each run of a matching packet counts, and the verdict is still per packet.
      const rep = await client.request("testRun", { handle: o.handle, packets: frames.map(toBase64), repeat: 5 });
      expect(rep.results.map((r) => r.status === "ok" && r.match)).toEqual(matches);

      const ins = await client.request("inspect", { handle: o.handle });
      expect(ins.info).toMatchObject({ id: o.progId, kind: host });
      expect(ins.counts.xlatedInsns).toBeGreaterThanOrEqual(o.insns);
      expect(ins.info.mapIds).toHaveLength(2);

      await client.request("unload", { handle: o.handle });
      expect(await until(() => !listPrograms().some((p) => p.id === o.progId), 3000)).toBe(true);
      await expect(client.request("testRun", { handle: o.handle, packets: [toBase64(frames[0]!)] })).rejects.toMatchObject({ code: "agent/no-such-handle" });
    });

    it("the skb host loads as a raw tracepoint program, and testRun says why it cannot run it", async () => {
      const o = await client.request("loadObject", { object: toBase64(readHostObject("skb")) });
      expect(o).toMatchObject({ name: "skb_host", progType: "raw_tp", section: "raw_tp/netif_receive_skb", verdictSource: "counts" });
      await expect(client.request("testRun", { handle: o.handle, packets: [toBase64(frames[0]!)] })).rejects.toMatchObject({
        code: "kernel/test-run",
        message: expect.stringMatching(/cannot run raw_tp programs on packets; attach them to the demo network/),
      });
      await client.request("unload", { handle: o.handle });
    });

    it("answers a bad object with libbpf's reason, and a verifier rejection with errno and the log", async () => {
      await expect(client.request("loadObject", { object: toBase64(new Uint8Array(200).fill(7)) })).rejects.toMatchObject({
        code: "libbpf/open",
        details: { op: "loadObject", errnoName: "LIBBPF_ERRNO__FORMAT" },
        message: expect.stringMatching(/libbpf cannot open the object/),
      });
      await expect(client.request("loadObject", { object: toBase64(hostWithStub("xdp", [mov64Reg("r0", "r7"), exit()])) })).rejects.toMatchObject({
        code: "libbpf/load",
        details: { errnoName: "EACCES", errno: 13 },
        message: expect.stringMatching(/verifier log:[\s\S]*R7 !read_ok/),
      });
      await expect(client.request("loadObject", { object: toBase64(readHostObject("xdp")), program: "other" })).rejects.toMatchObject({ code: "libbpf/select" });
      // The size bound hello reports is the one the schema holds, before any worker starts.
      const bound = client.hello!.limits.objectBytes;
      expect(bound).toBe(4 << 20);
      await expect(client.request("loadObject", { object: toBase64(new Uint8Array(bound + 1)) })).rejects.toMatchObject({ code: "protocol/invalid" });
      const objs = await client.request("objects", {});
      expect(objs.programs).toEqual([]);
    });
  });

  describeKernel("agent: an object's host attached to the demo network", () => {
    let agent: RunningAgent;
    let client: AgentClient;
    let matching: Uint8Array[] = [];
    beforeAll(async () => {
      agent = await startAgent();
      client = await connect(agent.url);
      await client.request("demoUp", {});
      const oracle = await tcpdumpMatches(frames.map((f) => ({ data: f, origLen: f.length })), 1, IPV4_TCP_FILTER);
      if (!oracle.ok) throw new Error(oracle.error);
      matching = frames.filter((_, i) => oracle.matches[i]);
    });
    afterAll(async () => {
      client?.close();
      await agent?.close();
    });

    it.each(["xdp", "tc"] as const)("%s: N frames sent, M match: the host's own counters say exactly N and M, and M events arrive", async (host) => {
      const cycles = 40;
      const N = frames.length * cycles;
      const M = matching.length * cycles;
      const o = await client.request("loadObject", { object: toBase64(hostWithStub(host, ipv4TcpStub())) });
      const att = await client.request("attach", { source: { kind: "handle", handle: o.handle }, target: host, on: { kind: "demo" } });
      expect(att).toMatchObject({ progId: o.progId, sampleBytes: 64, hook: host === "xdp" ? "xdp" : "tcx-ingress" });
      expect(att.translation).toBeUndefined();
      expect(listLinks().some((l) => l.id === att.linkId && l.progId === o.progId)).toBe(true);
      await expect(client.request("testRun", { handle: o.handle, packets: [toBase64(frames[0]!)] })).rejects.toMatchObject({ code: "agent/busy" });

      const messages: StreamMessage[] = [];
      await client.subscribe(att.attachment, (m) => messages.push(m), { intervalMs: 50, maxEvents: 1024 });
      const job = await client.request("trafficStart", { frames: { kind: "supplied", frames: frames.map(toBase64) }, count: N, rate: 20_000 });
      expect((await client.request("trafficWait", { traffic: job.traffic })).sent).toBe(N);
      expect(await until(() => (messages.at(-1)?.counters.total ?? 0) >= N, 5000)).toBe(true);
      // Unloading the handle does not end the attachment: it holds its own references.
      await client.request("unload", { handle: o.handle });
      const det = await client.request("detach", { attachment: att.attachment });
      await until(() => messages.at(-1)?.final === true, 2000);

      expect(det.counters).toEqual({ total: N, matched: M });
      const last = messages.at(-1)!;
      expect(last).toMatchObject({ final: true, counters: { total: N, matched: M }, dropped: 0 });
      expect(messages.every((m) => m.counters.matched <= m.counters.total)).toBe(true);
      const events = messages.flatMap((m) => m.events);
      expect(events).toHaveLength(M);
      const lengths = expectEventsOfFrames(events, matching, cycles);
      for (const e of events) expect({ len: e.len, capLen: e.capLen, bytes: fromBase64(e.data).length }).toEqual({ len: lengths.get(e.data), capLen: Math.min(64, e.len), bytes: Math.min(64, e.len) });
      expect(listLinks().some((l) => l.id === att.linkId)).toBe(false);
      expect(await until(() => !listPrograms().some((p) => p.id === o.progId), 3000)).toBe(true);
    });

    it("refuses a target that is not the program's, and an object without the host's maps", async () => {
      const o = await client.request("loadObject", { object: toBase64(readHostObject("xdp")) });
      await expect(client.request("attach", { source: { kind: "handle", handle: o.handle }, target: "tc", on: { kind: "demo" } })).rejects.toMatchObject({
        code: "agent/attach",
        message: expect.stringMatching(/xdp program .*target "xdp"/),
      });
      await client.request("unload", { handle: o.handle });
    });

    it("a connection that closes takes its objects, attachments and maps with it", async () => {
      const other = await connect(agent.url);
      await other.request("demoUp", {});
      const o = await other.request("loadObject", { object: toBase64(hostWithStub("xdp", ipv4TcpStub())) });
      const kept = await other.request("loadObject", { object: toBase64(readHostObject("tc")) });
      const att = await other.request("attach", { source: { kind: "handle", handle: o.handle }, target: "xdp", on: { kind: "demo" } });
      const mapIds = (await other.request("inspect", { handle: o.handle })).info.mapIds;
      other.close();
      expect(await until(() => !listPrograms().some((p) => p.id === o.progId || p.id === kept.progId), 5000)).toBe(true);
      expect(listLinks().some((l) => l.id === att.linkId)).toBe(false);
      // The maps are gone too (the kernel frees them after an RCU grace period).
      expect(mapIds.length).toBe(2);
      expect(await until(() => !allMapIds().some((id) => mapIds.includes(id)), 3000)).toBe(true);
    });
  });

  describeKernel("agent: a filter injected into a host (lib/inject), through loadObject", () => {
    let agent: RunningAgent;
    let client: AgentClient;
    let demo: { hostAddr: string; nsAddr: string };
    beforeAll(async () => {
      agent = await startAgent();
      client = await connect(agent.url);
      demo = await client.request("demoUp", {});
    });
    afterAll(async () => {
      client?.close();
      await agent?.close();
    });

    it("the XDP host with `tcp port 80` spliced in judges test runs as tcpdump does", async () => {
      const filter = "tcp port 80";
      const { bytes } = compileAndInject({ filter, object: readHostObject("xdp") });
      const o = await client.request("loadObject", { object: toBase64(bytes) });
      const oracle = await tcpdumpMatches(frames.map((f) => ({ data: f, origLen: f.length })), 1, filter);
      if (!oracle.ok) throw new Error(oracle.error);
      const run = await client.request("testRun", { handle: o.handle, packets: frames.map(toBase64) });
      expect(run.results.map((r) => r.status === "ok" && r.match)).toEqual(oracle.matches);
      await client.request("unload", { handle: o.handle });
    });

    it("the skb tracing host (raw tracepoint) on the demo network counts exactly the packets the filter matches", async () => {
      // A port and source address no other traffic on the machine has: the tracepoint sees every skb.
      const port = 20000 + (process.pid % 30000);
      const filter = `udp dst port ${port} and src host ${demo.nsAddr}`;
      const hit = ethIpv4(demo.nsAddr, demo.hostAddr, { proto: "udp", sport: 5555, dport: port, payload: 30 });
      const sent = [hit, ethIpv4(demo.nsAddr, demo.hostAddr, { proto: "udp", sport: 5555, dport: port + 1, payload: 30 }), ethIpv4(demo.nsAddr, demo.hostAddr, { proto: "tcp", sport: 5555, dport: port, payload: 30 })];
      const oracle = await tcpdumpMatches(sent.map((f) => ({ data: f, origLen: f.length })), 1, filter);
      if (!oracle.ok) throw new Error(oracle.error);
      expect(oracle.matches).toEqual([true, false, false]);
      const cycles = 50;

      const { bytes, notes } = compileAndInject({ filter, object: readHostObject("skb") });
      expect(notes.join("\n")).toMatch(/filter_pcap_ebpf_l3 gets the same filter/);
      const o = await client.request("loadObject", { object: toBase64(bytes) });
      expect(o.progType).toBe("raw_tp");
      const att = await client.request("attach", { source: { kind: "handle", handle: o.handle }, target: "kprobe", on: { kind: "demo" } });
      expect(att.hook).toBe("raw_tp:netif_receive_skb");
      expect(att.notes?.join(" ")).toMatch(/every skb the kernel receives/);
      const messages: StreamMessage[] = [];
      await client.subscribe(att.attachment, (m) => messages.push(m), { intervalMs: 50, maxEvents: 1024 });
      const job = await client.request("trafficStart", { frames: { kind: "supplied", frames: sent.map(toBase64) }, count: sent.length * cycles, rate: 10_000 });
      expect((await client.request("trafficWait", { traffic: job.traffic })).sent).toBe(sent.length * cycles);
      expect(await until(() => (messages.at(-1)?.counters.matched ?? 0) >= cycles, 5000)).toBe(true);
      await new Promise((r) => setTimeout(r, 200)); // nothing more may arrive
      const det = await client.request("detach", { attachment: att.attachment });
      await until(() => messages.at(-1)?.final === true, 2000);
      expect(det.counters.matched).toBe(cycles);
      expect(det.counters.total).toBeGreaterThanOrEqual(sent.length * cycles);
      const events = messages.flatMap((m) => m.events);
      expect(events).toHaveLength(cycles);
      // The veth frame has its MAC header (set by eth_type_trans, though mac_len is not yet), so
      // the host takes its L2 branch: the event's bytes and length are the whole frame's.
      for (const e of events) expect({ data: e.data, len: e.len }).toEqual({ data: toBase64(hit.subarray(0, 64)), len: hit.length });
      await client.request("unload", { handle: o.handle });
    });
  });
}, ["tcpdump"]);
