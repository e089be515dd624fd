import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { readCapture, forEachPacket, CaptureStream } from "../lib/pcap";
import { fileChunks } from "../server/capture-file";
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
    // What `run` does: the file read a chunk at a time from its fd into the incremental reader.
    const chunked: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      const s = new CaptureStream();
      let n = 0;
      for await (const chunk of fileChunks(await open(path, "r"))) {
        s.push(chunk);
        while (s.next()) n++;
      }
      s.end();
      while (s.next()) n++;
      chunked.push(performance.now() - t);
      if (n !== packets) throw new Error("short chunked read");
    }
    // Endless input that is not a capture: how long until it is refused.
    const refuse: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      const s = new CaptureStream();
      try {
        for await (const chunk of fileChunks(await open("/dev/zero", "r"))) {
          s.push(chunk);
          s.next();
        }
      } catch {
        refuse.push(performance.now() - t);
      }
    }
    const tcpdumpRefuse: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      try {
        execFileSync("tcpdump", ["-r", "/dev/zero"], { stdio: "ignore" });
      } catch {
        tcpdumpRefuse.push(performance.now() - t);
      }
    }
    const theirs: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      execFileSync("tcpdump", ["-r", path, "-w", "/dev/null"], { stdio: "ignore" });
      theirs.push(performance.now() - t);
    }
    const o = median(ours) / 1000, t = median(theirs) / 1000, st = median(streaming) / 1000, ch = median(chunked) / 1000;
    return [
      { name: "run's chunked read (CaptureStream over 1 MiB reads) packets/s", value: packets / ch, unit: "packets/s", baseline: { name: "tcpdump -r -w /dev/null", value: packets / t, unit: "packets/s" } },
      { name: "refusing /dev/zero", value: median(refuse), unit: "ms", baseline: { name: "tcpdump -r /dev/zero (process)", value: median(tcpdumpRefuse), unit: "ms" } },
      { name: "lib/pcap streaming (forEachPacket) packets/s", value: packets / st, unit: "packets/s", baseline: { name: "tcpdump -r -w /dev/null", value: packets / t, unit: "packets/s" } },
      { name: "lib/pcap streaming MB/s", value: mb / st, unit: "MB/s", baseline: { name: "tcpdump -r -w /dev/null", value: mb / t, unit: "MB/s" } },
      { name: "lib/pcap readCapture (all packets kept) packets/s", value: packets / o, unit: "packets/s", baseline: { name: "tcpdump -r -w /dev/null", value: packets / t, unit: "packets/s" } },
      { name: "lib/pcap MB/s", value: mb / o, unit: "MB/s", baseline: { name: "tcpdump -r -w /dev/null", value: mb / t, unit: "MB/s" }, note: `${mb.toFixed(0)} MB file, read from disk cache and parsed` },
    ];
  },
};
export default bench;
