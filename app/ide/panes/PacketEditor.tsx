"use client";
/**
 * Craft or edit a frame: raw hex, or a builder form over lib/craft (Ethernet, optional VLAN,
 * IPv4/IPv6/ARP, TCP/UDP/ICMP, payload text). The result replaces the selected packet or is
 * inserted after it.
 */
import { useMemo, useState } from "react";
import { arp, build, ether, icmp, icmpv6, ipv4, ipv6, tcp, udp, vlan, type Part } from "../../../lib/craft";
import { Overlay } from "./Dialogs";

interface Props {
  mode: "edit" | "new";
  initial: Uint8Array | null;
  dlt: number;
  onApply: (data: Uint8Array, how: "replace" | "insert") => void;
  onClose: () => void;
}

export function toHex(data: Uint8Array): string {
  const lines: string[] = [];
  for (let off = 0; off < data.length; off += 16) {
    lines.push(Array.from(data.subarray(off, off + 16), (b) => b.toString(16).padStart(2, "0")).join(" "));
  }
  return lines.join("\n");
}

/** Hex digits in pairs; whitespace, `0x` prefixes and `0000:` offsets are ignored. */
export function parseHex(text: string): Uint8Array | string {
  const cleaned = text
    .split("\n")
    .map((l) => l.replace(/^\s*[0-9a-fA-F]{4,8}:\s/, ""))
    .join(" ")
    .replace(/0x/gi, "")
    .replace(/[\s,]+/g, "");
  if (!/^[0-9a-fA-F]*$/.test(cleaned)) return "only hex digits, spaces and line offsets are allowed";
  if (cleaned.length % 2 !== 0) return "an odd number of hex digits";
  if (cleaned.length === 0) return "the packet is empty";
  const out = new Uint8Array(cleaned.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(cleaned.slice(i * 2, i * 2 + 2), 16);
  return out;
}

interface Form {
  srcMac: string;
  dstMac: string;
  vlan: string;
  net: "ipv4" | "ipv6" | "arp";
  src: string;
  dst: string;
  ttl: string;
  l4: "tcp" | "udp" | "icmp" | "none";
  sport: string;
  dport: string;
  flags: string;
  payload: string;
}

const DEFAULT_FORM: Form = {
  srcMac: "02:00:00:00:00:01",
  dstMac: "02:00:00:00:00:02",
  vlan: "",
  net: "ipv4",
  src: "192.0.2.1",
  dst: "192.0.2.80",
  ttl: "64",
  l4: "tcp",
  sport: "40000",
  dport: "80",
  flags: "S",
  payload: "",
};

function buildFrame(f: Form): Uint8Array {
  const parts: Part[] = [ether({ src: f.srcMac, dst: f.dstMac })];
  if (f.vlan.trim() !== "") parts.push(vlan({ vid: Number(f.vlan) }));
  const v6 = f.net === "ipv6";
  if (f.net === "arp") parts.push(arp({ spa: f.src, tpa: f.dst }));
  else {
    parts.push(v6 ? ipv6({ src: f.src, dst: f.dst, hopLimit: Number(f.ttl) }) : ipv4({ src: f.src, dst: f.dst, ttl: Number(f.ttl) }));
    if (f.l4 === "tcp") parts.push(tcp({ sport: Number(f.sport), dport: Number(f.dport), flags: f.flags }));
    else if (f.l4 === "udp") parts.push(udp({ sport: Number(f.sport), dport: Number(f.dport) }));
    else if (f.l4 === "icmp") parts.push(v6 ? icmpv6({ type: 128 }) : icmp({ type: 8 }));
    if (f.payload) parts.push(f.payload);
  }
  return build(...parts);
}

export function PacketEditor({ mode, initial, dlt, onApply, onClose }: Props) {
  const [tab, setTab] = useState<"hex" | "builder">(mode === "new" ? "builder" : "hex");
  const [hex, setHex] = useState(initial ? toHex(initial) : "");
  const [form, setForm] = useState<Form>(DEFAULT_FORM);
  const built = useMemo(() => {
    try {
      return buildFrame(form);
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    }
  }, [form]);
  const parsed = tab === "hex" ? parseHex(hex) : built;
  const field = (k: keyof Form, label: string, width = 130) => (
    <label>
      {label}
      <input type="text" value={form[k]} style={{ width }} onChange={(e) => setForm({ ...form, [k]: e.target.value })} />
    </label>
  );
  return (
    <Overlay onClose={onClose} testId="packet-editor">
      <h2>{mode === "edit" ? "Edit packet" : "New packet"}</h2>
      <div className="tabs" style={{ marginBottom: 8 }}>
        <button aria-selected={tab === "hex"} onClick={() => setTab("hex")}>hex</button>
        <button aria-selected={tab === "builder"} onClick={() => setTab("builder")}>builder</button>
      </div>
      {tab === "hex" ? (
        <textarea style={{ width: "62ch", minHeight: 220 }} value={hex} onChange={(e) => setHex(e.target.value)} spellCheck={false} data-testid="packet-hex" />
      ) : (
        <div>
          {dlt !== 1 && <p className="err">The builder makes Ethernet frames; the filter's link type is DLT {dlt}.</p>}
          <div className="row">
            {field("srcMac", "source MAC")}
            {field("dstMac", "destination MAC")}
            {field("vlan", "VLAN id (optional)", 90)}
          </div>
          <div className="row">
            <label>
              network
              <select value={form.net} onChange={(e) => setForm({ ...form, net: e.target.value as Form["net"], src: e.target.value === "ipv6" ? "2001:db8::1" : "192.0.2.1", dst: e.target.value === "ipv6" ? "2001:db8::80" : "192.0.2.80" })}>
                <option value="ipv4">IPv4</option>
                <option value="ipv6">IPv6</option>
                <option value="arp">ARP</option>
              </select>
            </label>
            {field("src", form.net === "arp" ? "sender IP" : "source", 170)}
            {field("dst", form.net === "arp" ? "target IP" : "destination", 170)}
            {form.net !== "arp" && field("ttl", "TTL / hop limit", 60)}
          </div>
          {form.net !== "arp" && (
            <div className="row">
              <label>
                transport
                <select value={form.l4} onChange={(e) => setForm({ ...form, l4: e.target.value as Form["l4"] })}>
                  <option value="tcp">TCP</option>
                  <option value="udp">UDP</option>
                  <option value="icmp">ICMP echo</option>
                  <option value="none">none</option>
                </select>
              </label>
              {(form.l4 === "tcp" || form.l4 === "udp") && field("sport", "source port", 70)}
              {(form.l4 === "tcp" || form.l4 === "udp") && field("dport", "destination port", 70)}
              {form.l4 === "tcp" && field("flags", "flags (FSRPAUEC)", 70)}
              {field("payload", "payload text", 200)}
            </div>
          )}
          <pre style={{ fontFamily: "var(--font-mono)", fontSize: "var(--fs-small)", color: "var(--fg-dim)" }}>{typeof built === "string" ? "" : toHex(built)}</pre>
        </div>
      )}
      {typeof parsed === "string" && <p className="err">{parsed}</p>}
      <div className="row">
        {mode === "edit" && (
          <button className="btn primary" disabled={typeof parsed === "string"} onClick={() => typeof parsed !== "string" && (onApply(parsed, "replace"), onClose())} data-testid="packet-apply">
            Replace packet
          </button>
        )}
        <button className={`btn${mode === "new" ? " primary" : ""}`} disabled={typeof parsed === "string"} onClick={() => typeof parsed !== "string" && (onApply(parsed, "insert"), onClose())} data-testid="packet-insert">
          Insert as new packet
        </button>
        <button className="btn" onClick={onClose}>Cancel</button>
      </div>
    </Overlay>
  );
}
