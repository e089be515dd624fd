/**
 * The demo network (server/kernel/netns.ts): creation, addressing, teardown, and that a SIGKILLed
 * owner leaves nothing behind: no veth, no namespace holder, no traffic source, no BPF link or
 * program (checked by walking the kernel's link and program ID tables).
 */
import { spawn, execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { readFileSync, readlinkSync } from "node:fs";
import { afterAll, expect, it } from "vitest";
import { DemoNetwork } from "../../server/kernel/netns";
import { listLinks, listPrograms } from "../../server/kernel/objects";
import { ifNameToIndex } from "../../server/native/libc";
import { describeKernel, eventually } from "./support";

const ipLinks = (): string => execFileSync("ip", ["-o", "link", "show"], { encoding: "utf8" });
const nsLinks = (nsPath: string): string => execFileSync("nsenter", [`--net=${nsPath}`, "ip", "-o", "link", "show"], { encoding: "utf8" });
const nsAddrs = (nsPath: string): string => execFileSync("nsenter", [`--net=${nsPath}`, "ip", "-o", "-4", "addr", "show"], { encoding: "utf8" });
/** Running (a zombie waiting for init to reap it counts as gone: it holds no namespace or fd). */
const alive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
};

function ipToInt(ip: string): number {
  return ip.split(".").reduce((n, o) => n * 256 + Number(o), 0);
}

describeKernel("kernel: demo network namespace", () => {
  const nets: DemoNetwork[] = [];
  afterAll(async () => {
    for (const n of nets) await n.down();
  });

  it("creates a veth pair with one end in a private namespace, addressed from 198.18.0.0/15", async () => {
    const net = await DemoNetwork.up();
    nets.push(net);
    expect(net.hostIf.length).toBeLessThanOrEqual(15);
    expect(net.nsIf.length).toBeLessThanOrEqual(15);
    expect(net.hostIf).toMatch(/^bpg[0-9a-z]+h$/);
    expect(ipLinks()).toContain(`: ${net.hostIf}@`);
    expect(ipLinks()).not.toContain(`: ${net.nsIf}@`);
    expect(nsLinks(net.nsPath)).toContain(`: ${net.nsIf}@`);
    expect(readlinkSync(net.nsPath)).not.toBe(readlinkSync("/proc/self/ns/net"));
    const base = ipToInt("198.18.0.0");
    for (const a of [net.hostAddr, net.nsAddr]) {
      expect(ipToInt(a) - base).toBeGreaterThanOrEqual(0);
      expect(ipToInt(a) - base).toBeLessThan(1 << 17);
    }
    expect(ipToInt(net.hostAddr) >>> 2).toBe(ipToInt(net.nsAddr) >>> 2); // the same /30
    expect(execFileSync("ip", ["-o", "-4", "addr", "show", "dev", net.hostIf], { encoding: "utf8" })).toContain(`${net.hostAddr}/30`);
    expect(nsAddrs(net.nsPath)).toContain(`${net.nsAddr}/30`);
    expect(net.inNs(() => ifNameToIndex(net.nsIf))).toBe(net.nsIfindex);
    expect(ifNameToIndex(net.nsIf)).toBe(0); // not visible from the host namespace
  });

  it("keeps two instances apart (names and subnets)", async () => {
    const a = await DemoNetwork.up();
    const b = await DemoNetwork.up();
    nets.push(a, b);
    expect(a.hostIf).not.toBe(b.hostIf);
    expect(ipToInt(a.hostAddr) >>> 2).not.toBe(ipToInt(b.hostAddr) >>> 2);
  });

  it("down() removes the veth pair and ends the holder", async () => {
    const net = await DemoNetwork.up();
    const pid = net.holderPid;
    expect(alive(pid)).toBe(true);
    await net.down();
    expect(alive(pid)).toBe(false);
    expect(ipLinks()).not.toContain(`: ${net.hostIf}@`);
    expect(() => net.openSender()).toThrow();
  });

  it("a SIGKILLed owner leaves no veth, holder, traffic source, link or program", async () => {
    const runTs = fileURLToPath(new URL("../../bin/run-ts.mjs", import.meta.url));
    const script = fileURLToPath(new URL("./fixtures/netns-owner.ts", import.meta.url));
    const child = spawn(process.execPath, [runTs, script], { stdio: ["ignore", "pipe", "inherit"] });
    const report = await new Promise<Record<string, unknown>>((resolve, reject) => {
      let buf = "";
      child.stdout.setEncoding("utf8");
      child.stdout.on("data", (c: string) => {
        buf += c;
        const nl = buf.indexOf("\n");
        if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)));
      });
      child.on("close", (code) => reject(new Error(`owner exited early (${code}): ${buf}`)));
    });
    expect(report.error).toBeUndefined();
    const hostIf = report.hostIf as string;
    const ifindex = report.hostIfindex as number;
    const progIds = report.progIds as number[];
    const linkIds = report.linkIds as number[];
    // Everything exists while the owner lives, and traffic was flowing through the program.
    expect(report.counted as number).toBeGreaterThan(0);
    expect(ipLinks()).toContain(`: ${hostIf}@`);
    expect(alive(report.holderPid as number)).toBe(true);
    expect(alive(report.trafficPid as number)).toBe(true);
    const links = listLinks();
    for (const id of linkIds) expect(links.some((l) => l.id === id && l.ifindex === ifindex)).toBe(true);

    const tKill = Date.now();
    child.kill("SIGKILL");
    await new Promise((r) => child.once("close", r));

    const gone = await eventually(() => {
      if (ipLinks().includes(`: ${hostIf}@`)) return false;
      if (alive(report.holderPid as number) || alive(report.trafficPid as number)) return false;
      const ls = listLinks();
      if (ls.some((l) => linkIds.includes(l.id) || l.ifindex === ifindex)) return false;
      const ps = listPrograms();
      return !ps.some((p) => progIds.includes(p.id));
    }, 10_000, 50);
    const cleanupMs = Date.now() - tKill;
    expect(ipLinks()).not.toContain(`: ${hostIf}@`);
    expect(alive(report.holderPid as number)).toBe(false);
    expect(alive(report.trafficPid as number)).toBe(false);
    expect(listLinks().filter((l) => linkIds.includes(l.id))).toEqual([]);
    expect(listPrograms().filter((p) => progIds.includes(p.id))).toEqual([]);
    expect(gone).toBe(true);
    expect(cleanupMs).toBeLessThan(10_000);
  });
});
