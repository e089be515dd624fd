/** hello and kernelInfo: what the agent allows, and what this kernel offers (kernelInfo's probe loads run once and are cached). */
import { LIMITS, PROTOCOL_VERSION, type ParamsOf, type ResultOf } from "../../lib/protocol";
import { fail, type ConnectionContext } from "./scope";

export const AGENT_NAME = "bpf-playground agent";

export function hello(ctx: ConnectionContext, p: ParamsOf<"hello">): ResultOf<"hello"> {
  if (p.version !== PROTOCOL_VERSION) {
    throw fail("protocol/version", `this agent speaks protocol version ${PROTOCOL_VERSION}; the client asked for ${p.version}`);
  }
  const l = ctx.limits;
  const b = l.budgets;
  return {
    protocol: PROTOCOL_VERSION,
    agent: AGENT_NAME,
    limits: {
      maxPayloadBytes: l.messageBytes,
      programsPerConnection: l.programsPerConnection,
      attachmentsPerConnection: l.attachmentsPerConnection,
      subscriptionsPerConnection: l.subscriptionsPerConnection,
      packetsPerRun: l.packetsPerRun,
      packetBytes: l.packetBytes,
      runsPerRequest: l.runsPerRequest,
      trafficJobsPerConnection: l.trafficJobsPerConnection,
      budgetsMs: { compile: b.compileMs, load: b.loadMs, inspect: b.inspectMs, testRun: b.testRunMs, attach: b.attachMs },
      kernelJobsPerConnection: l.kernelJobsPerConnection,
      queuedJobsPerConnection: l.queuedJobsPerConnection,
      outboxBytes: l.outboxBytes,
      objectBytes: LIMITS.objectBytes,
    },
    interfaces: [...ctx.allowedInterfaces],
  };
}

export function kernelInfo(ctx: ConnectionContext): ResultOf<"kernelInfo"> {
  const k = ctx.backend.kernelInfo();
  const hookOk = k.skbHook !== null && k.canLoad[k.skbHook.kind].ok && k.btf;
  const targets: ResultOf<"kernelInfo">["targets"] = {
    socket: { load: k.canLoad.socket.ok, testRun: k.canLoad.socket.ok, attach: k.canLoad.socket.ok },
    tc: { load: k.canLoad.tc.ok, testRun: k.canLoad.tc.ok, attach: k.tcx },
    xdp: { load: k.canLoad.xdp.ok, testRun: k.canLoad.xdp.ok, attach: k.canLoad.xdp.ok },
    kprobe: { load: k.canLoad.kprobe.ok, testRun: false, attach: hookOk },
  };
  return {
    release: k.release,
    version: [k.version[0], k.version[1]],
    arch: k.arch,
    root: k.root,
    canLoad: Object.fromEntries(Object.entries(k.canLoad).map(([n, v]) => [n, v.errnoName ? { ok: v.ok, errnoName: v.errnoName } : { ok: v.ok }])),
    tcx: k.tcx,
    kprobePmu: k.kprobePmu,
    btf: k.btf,
    jitEnabled: k.jitEnabled,
    unprivilegedBpfDisabled: k.unprivilegedBpfDisabled,
    skbHook: k.skbHook,
    config: { ...k.config },
    targets,
  };
}
