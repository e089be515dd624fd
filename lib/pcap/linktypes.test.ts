/**
 * The link type table against libpcap itself: tcpdump reads a file header with each LINKTYPE value
 * and names the DLT libpcap mapped it to (pcap_datalink_val_to_name), which must be ours.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LINK_TYPES, dltByName, dltName, dltToLinkType, linkTypeToDlt } from "./linktypes";
import { writePcap } from "./write";

const dir = mkdtempSync(join(tmpdir(), "linktypes-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tcpdumpLinkType(linkType: number): Promise<string> {
  const file = join(dir, `lt${linkType}.pcap`);
  writeFileSync(file, writePcap([], { linkType }));
  return new Promise((resolve) => {
    const child = spawn("tcpdump", ["-r", file], { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("close", () => resolve(/link-type (\S+)/.exec(err)?.[1] ?? `?? ${err}`));
  });
}

describe("link types", () => {
  it("libpcap 1.10.3 maps each LINKTYPE to the DLT we name", async () => {
    const known = LINK_TYPES.filter((t) => !t.newer);
    expect(known.length).toBeGreaterThan(140);
    const names = new Map<number, string>();
    for (let i = 0; i < known.length; i += 16) {
      const batch = known.slice(i, i + 16);
      const got = await Promise.all(batch.map((t) => tcpdumpLinkType(t.linkType)));
      batch.forEach((t, k) => names.set(t.linkType, got[k]!));
    }
    const wrong = known
      .filter((t) => names.get(t.linkType) !== dltName(linkTypeToDlt(t.linkType)))
      .map((t) => `${t.linkType}: tcpdump says ${names.get(t.linkType)}, we say ${dltName(linkTypeToDlt(t.linkType))}`);
    expect(wrong).toEqual([]);
  });

  it("names newer than libpcap 1.10.3 come out as numbers there", async () => {
    const newer = LINK_TYPES.filter((t) => t.newer && t.linkType >= 104);
    expect(newer.length).toBeGreaterThan(5);
    for (const t of newer.slice(0, 3)) expect(await tcpdumpLinkType(t.linkType)).toBe(`${t.linkType},`);
  });

  it("the documented pairs", () => {
    expect(linkTypeToDlt(101)).toBe(12);
    expect(linkTypeToDlt(100)).toBe(11);
    expect(linkTypeToDlt(276)).toBe(276);
    expect(linkTypeToDlt(106)).toBe(19);
    expect(dltToLinkType(12)).toBe(101);
    expect(dltToLinkType(19)).toBe(106);
    expect(dltToLinkType(1)).toBe(1);
    expect(dltToLinkType(113)).toBe(113);
    expect(dltToLinkType(14)).toBe(-1);
  });

  it("every table entry round-trips DLT ↔ LINKTYPE where libpcap can write it", () => {
    for (const t of LINK_TYPES) {
      expect(linkTypeToDlt(t.linkType)).toBe(t.dlt);
      if (t.dlt !== 32) expect(dltToLinkType(t.dlt)).toBe(t.linkType);
    }
    expect(new Set(LINK_TYPES.map((t) => t.dlt)).size).toBe(LINK_TYPES.length);
  });

  it("looks names up like pcap_datalink_name_to_val, plus the DLT_ prefix", () => {
    expect(dltByName("EN10MB")).toBe(1);
    expect(dltByName("linux_sll2")).toBe(276);
    expect(dltByName("DLT_RAW")).toBe(12);
    expect(dltByName("dlt_ipv6")).toBe(229);
    expect(dltByName("I2C_LINUX")).toBe(209);
    expect(dltByName("NO_SUCH")).toBeUndefined();
    for (const t of LINK_TYPES) expect(dltByName(t.name)).toBe(t.dlt);
  });
});
