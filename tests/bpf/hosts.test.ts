/**
 * The host programs in bpf/ load in the running kernel as bpftool (libbpf) loads them, and the
 * XDP and TC hosts count a packet their stub accepts: BPF_PROG_TEST_RUN through bpftool, then the
 * `counts` map read back through bpftool, and send the frame's first bytes through the `events`
 * ring buffer (read with the project's own consumer).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { RingBuffer } from "../../server/kernel/maps";
import { objGet } from "../../server/native/bpf";
import { kernelInfo } from "../../server/kernel/kernel-info";
import { describeKernel } from "../kernel/support";
import { describeWithObjects, hostObjectPath, HOSTS, ROOT, type HostName } from "../support/bpf-objects";

const PROGRAM: Record<HostName, string> = { xdp: "xdp_host", tc: "tc_host", skb: "skb_host" };

const pins: string[] = [];
afterEach(() => {
  for (const p of pins.splice(0)) rmSync(p, { recursive: true, force: true });
});

function bpftool(args: string[]): string {
  return execFileSync("bpftool", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** `bpftool prog loadall` into fresh pin directories under /sys/fs/bpf (removed after each test). */
function loadAll(host: HostName): { progs: string; maps: string } {
  const base = join("/sys/fs/bpf", `bpfpg-hosts-${process.pid}-${host}`);
  const progs = `${base}-progs`;
  const maps = `${base}-maps`;
  pins.push(progs, maps);
  bpftool(["prog", "loadall", hostObjectPath(host), progs, "pinmaps", maps]);
  return { progs, maps };
}

interface MapEntry {
  formatted: { key: number; value: number };
}

function counts(mapsDir: string): { seen: number; matched: number } {
  const entries = JSON.parse(bpftool(["-j", "map", "dump", "pinned", join(mapsDir, "counts")])) as MapEntry[];
  const at = (k: number) => entries.find((e) => e.formatted.key === k)?.formatted.value;
  return { seen: at(0) ?? -1, matched: at(1) ?? -1 };
}

/** An IPv4/UDP frame (60 bytes unless asked), enough for both the XDP and the skb test run. */
function frame(length = 60): Uint8Array {
  const b = new Uint8Array(length);
  for (let i = 34; i < length; i++) b[i] = i & 0xff; // a payload to recognise
  b.set([0x08, 0x00], 12); // EtherType IPv4
  b.set([0x45, 0, 0, 46, 0, 0, 0, 0, 64, 17], 14);
  return b;
}

describeWithObjects(
  "bpf/ host objects",
  () => {
    describeKernel("in the running kernel", () => {
      it.each(HOSTS)("the %s host loads with bpftool prog loadall, with its maps", (host) => {
        const { progs, maps } = loadAll(host);
        expect(readdirSync(progs)).toEqual([PROGRAM[host]]);
        expect(readdirSync(maps).sort()).toEqual(["counts", "events"]);
        expect(counts(maps)).toEqual({ seen: 0, matched: 0 });
      });

      it("the fentry skb host loads where the kernel allows tracing programs, and is refused where it does not", () => {
        const pin = `/sys/fs/bpf/bpfpg-hosts-${process.pid}-fentry`;
        pins.push(pin);
        const obj = join(ROOT, "bpf", "build", "skb_fentry_host.o");
        let refusal: string | null = null;
        try {
          bpftool(["prog", "loadall", obj, pin]);
        } catch (e) {
          refusal = String((e as { stderr?: string }).stderr);
        }
        if (kernelInfo().fentry) {
          expect(refusal).toBeNull();
          expect(readdirSync(pin)).toEqual(["skb_fentry_host"]);
        } else {
          console.warn("[bpf] this kernel refuses tracing programs: the raw tracepoint skb host is the one that loads here");
          expect(refusal).toMatch(/Operation not permitted|Invalid argument|not supported/);
        }
      });

      it.each(["xdp", "tc"] as const)("the %s host counts a packet its stub accepts (BPF_PROG_TEST_RUN)", (host) => {
        const { progs, maps } = loadAll(host);
        const dir = mkdtempSync(join(tmpdir(), "bpfpg-hosts-"));
        try {
          const pkt = join(dir, "frame.bin");
          writeFileSync(pkt, frame());
          const out = bpftool(["prog", "run", "pinned", join(progs, PROGRAM[host]), "data_in", pkt, "repeat", "3"]);
          // XDP_PASS for the XDP host; TCX_NEXT (-1) for the TC host.
          expect(out).toMatch(host === "xdp" ? /Return value: 2\b/ : /Return value: 4294967295\b/);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
        expect(counts(maps)).toEqual({ seen: 3, matched: 3 });
      });

      it.each(["xdp", "tc"] as const)("the %s host sends the length and first 64 bytes of an accepted frame through the ring buffer", (host) => {
        const { progs, maps } = loadAll(host);
        const ring = RingBuffer.adopt(objGet(join(maps, "events")), 1 << 16);
        const dir = mkdtempSync(join(tmpdir(), "bpfpg-hosts-"));
        try {
          const pkt = join(dir, "frame.bin");
          const sent = frame(100);
          writeFileSync(pkt, sent);
          bpftool(["prog", "run", "pinned", join(progs, PROGRAM[host]), "data_in", pkt]);
          const records = ring.drain();
          expect(records).toHaveLength(1);
          const rec = records[0]!;
          const v = new DataView(rec.buffer, rec.byteOffset, rec.byteLength);
          expect(rec.length).toBe(8 + 64);
          expect({ len: v.getUint32(0, true), caplen: v.getUint32(4, true) }).toEqual({ len: 100, caplen: 64 });
          expect([...rec.subarray(8)]).toEqual([...sent.subarray(0, 64)]);
        } finally {
          ring.close();
          rmSync(dir, { recursive: true, force: true });
        }
      });
    });
  },
  ["bpftool"],
);
