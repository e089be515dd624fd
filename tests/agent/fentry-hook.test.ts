/**
 * The kprobe target on an fentry hook, without needing a kernel that allows tracing programs:
 * the counting build for fentry is the raw_tp build (both contexts are `u64 args[]` with the skb
 * in args[0]) loaded as another program type for a named function, and the agent asks the
 * backend for exactly that. The live counting check is tests/kernel/attach.test.ts (where the
 * kernel offers fentry).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAgent, type RunningAgent } from "../../server/agent/server";
import { realBackend, type KernelBackend } from "../../server/agent/backend";
import { buildCounting } from "../../server/agent/programs";
import type { KernelInfo } from "../../server/kernel/kernel-info";
import type { LoadOptions } from "../../server/kernel/load";
import type { SkbLayout, FieldLocation } from "../../server/kernel/btf";
import { compileFilter } from "../../server/native/libpcap";
import type { AgentClient } from "../../lib/protocol";
import { connect } from "./support";

const FUNC = "__netif_receive_skb";

// Offsets only need to be distinct: the builds are compared with each other, not with a kernel.
const at = (offset: number, size = 8): FieldLocation => ({ offset, size, bitOffset: offset * 8 });
const LAYOUT: SkbLayout = {
  len: at(112, 4),
  dataLen: at(116, 4),
  data: at(200),
  head: at(192),
  macHeader: at(186, 2),
  networkHeader: at(184, 2),
  protocol: at(180, 2),
  dev: at(16),
  devIfindex: at(224, 4),
};

const INFO: KernelInfo = {
  release: "6.18.0-test",
  version: [6, 18],
  arch: "x64",
  root: true,
  canLoad: Object.fromEntries(["socket", "tc", "xdp", "kprobe", "raw_tp", "fentry"].map((k) => [k, { ok: true }])) as KernelInfo["canLoad"],
  tcx: true,
  kprobePmu: false,
  fentry: true,
  btf: true,
  jitEnabled: 1,
  unprivilegedBpfDisabled: 2,
  skbHook: { kind: "fentry", function: FUNC },
  config: {},
};

describe("agent: the kprobe target through fentry", () => {
  const compiled = compileFilter({ filter: "udp port 53", dlt: 1 });
  if (!compiled.ok) throw new Error(compiled.error);
  const cbpf = compiled.insns;
  const plan = { countersFd: 5, eventsFd: 6, sampleBytes: 64 };
  const backend = { skbLayout: () => LAYOUT } as unknown as KernelBackend;

  it("builds the raw_tp program (skb at ctx+0), typed fentry and naming its function", () => {
    const fentry = buildCounting(backend, cbpf, "kprobe", plan, { kind: "fentry", function: FUNC, ifindex: 7 });
    const rawTp = buildCounting(backend, cbpf, "kprobe", plan, { kind: "raw_tp", ifindex: 7 });
    const kprobe = buildCounting(backend, cbpf, "kprobe", plan, { kind: "kprobe", ifindex: 7 });
    expect(fentry.kind).toBe("fentry");
    expect(fentry.attachFunc).toBe(FUNC);
    expect(rawTp.attachFunc).toBeUndefined();
    expect(fentry.insns).toEqual(rawTp.insns);
    expect(kprobe.insns).not.toEqual(rawTp.insns); // pt_regs->di, not args[0]
  });

  describe("the agent asks the backend for an fentry load and attach", () => {
    let agent: RunningAgent;
    let client: AgentClient;
    const loads: LoadOptions[] = [];
    const real = realBackend();
    beforeAll(async () => {
      const fake: KernelBackend = {
        ...real,
        kernelInfo: () => INFO,
        skbLayout: () => LAYOUT,
        ifindex: (name) => (name === "veth-test" ? 7 : 0),
        createCounters: () => ({ fd: 5, read: () => ({ total: 0, matched: 0 }), close: () => undefined }),
        createRing: () => ({ fd: 6, drain: () => [], close: () => undefined }),
        // Refused as this project's CI kernel refuses tracing programs, so nothing reaches bpf(2).
        loadProgram: async (opts) => {
          loads.push(opts);
          return { ok: false, errno: 1, errnoName: "EPERM", logTruncated: false, log: "", stats: { loadWallUs: 0 }, logBufferSize: 0, attempts: 1 };
        },
      };
      agent = await startAgent({ backend: fake, allowedInterfaces: ["veth-test"], log: () => undefined });
      client = await connect(agent.url);
    });
    afterAll(async () => {
      client?.close();
      await agent?.close();
      await real.close?.();
    });

    it("reports the hook and loads the counting program as fentry on the function", async () => {
      const k = await client.request("kernelInfo", {});
      expect(k.skbHook).toEqual({ kind: "fentry", function: FUNC });
      expect(k.targets.kprobe).toEqual({ load: true, testRun: false, attach: true });
      await expect(
        client.request("attach", { source: { kind: "filter", filter: "udp" }, target: "kprobe", on: { kind: "interface", name: "veth-test" } }),
      ).rejects.toMatchObject({ code: "kernel/verifier" });
      expect(loads).toHaveLength(1);
      expect(loads[0]!.type).toBe("fentry");
      expect(loads[0]!.attachFunc).toBe(FUNC);
    });
  });
});
