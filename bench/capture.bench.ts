import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { readCapture, forEachPacket } from "../lib/pcap";
import { bigCapture } from "./fixtures";
import type { Benchmark } from "./harness";
import { median } from "./harness";

const bench: Benchmark = {
  name: "capture",
  description: "reading a 1M-packet pcap: lib/pcap against tcpdump -r FILE -w /dev/null",
  async run() {
    const { path, packets } = bigCapture();
    const ours: number[] = [];
    let mb = 0;
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      const bytes = new Uint8Array(readFileSync(path));
      const cap = readCapture(bytes);
      ours.push(performance.now() - t);
      if (cap.packets.length !== packets) throw new Error("short read");
      mb = bytes.length / 1e6;
    }
    // Streaming, like tcpdump -w /dev/null: no packet objects kept.
    const streaming: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      const bytes = new Uint8Array(readFileSync(path));
      let n = 0;
      forEachPacket(bytes, () => void n++);
      streaming.push(performance.now() - t);
      if (n !== packets) throw new Error("short streaming read");
    }
    const theirs: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      execFileSync("tcpdump", ["-r", path, "-w", "/dev/null"], { stdio: "ignore" });
      theirs.push(performance.now() - t);
    }
    const o = median(ours) / 1000, t = median(theirs) / 1000, st = median(streaming) / 1000;
    return [
      { name: "lib/pcap streaming (forEachPacket) packets/s", value: packets / st, unit: "packets/s", baseline: { name: "tcpdump -r -w /dev/null", value: packets / t, unit: "packets/s" } },
      { name: "lib/pcap streaming MB/s", value: mb / st, unit: "MB/s", baseline: { name: "tcpdump -r -w /dev/null", value: mb / t, unit: "MB/s" } },
      { name: "lib/pcap readCapture (all packets kept) packets/s", value: packets / o, unit: "packets/s", baseline: { name: "tcpdump -r -w /dev/null", value: packets / t, unit: "packets/s" } },
      { name: "lib/pcap MB/s", value: mb / o, unit: "MB/s", baseline: { name: "tcpdump -r -w /dev/null", value: mb / t, unit: "MB/s" }, note: `${mb.toFixed(0)} MB file, read from disk cache and parsed` },
    ];
  },
};
export default bench;
