/**
 * The builder model: a packet is a list of layers, outermost first, optionally ending in raw payload
 * bytes. `build` encodes from the inside out, so every layer sees its finished payload (for lengths
 * and checksums) and knows the layer directly inside it (to fill in "next protocol" fields) and the
 * nearest enclosing IP layer (for TCP/UDP/ICMPv6 pseudo-header checksums).
 */
import { ascii, concat, craftError } from "./bytes";

export interface LayerContext {
  /** The layer directly inside this one, if the inside is a layer and not raw bytes. */
  readonly inner: Layer | undefined;
  /** The nearest enclosing IPv4/IPv6 layer, for pseudo-header checksums. */
  readonly ip: Layer | undefined;
}

export interface Layer {
  readonly name: string;
  /** This layer's number in the EtherType space (for Ethernet, VLAN, SLL, GRE…). */
  readonly ethertype?: number;
  /** This layer's IP protocol number (for IPv4 protocol / IPv6 next header). */
  readonly ipProto?: number;
  /** This layer's PPP protocol number. */
  readonly pppProto?: number;
  /** The UDP destination port this layer is normally carried on (VXLAN, Geneve). */
  readonly udpPort?: number;
  /** True for 802.2 LLC: the Ethernet layer outside writes a length instead of an EtherType. */
  readonly llc?: boolean;
  /** For IP layers: the addresses and family the pseudo header uses. */
  readonly pseudo?: { readonly src: Uint8Array; readonly dst: Uint8Array; readonly v6: boolean };
  encode(payload: Uint8Array, ctx: LayerContext): Uint8Array;
}

export type Part = Layer | Uint8Array | string;

function isLayer(p: Part): p is Layer {
  return typeof p === "object" && !(p instanceof Uint8Array);
}

/** Encodes `parts` (outermost first; raw bytes or text only at the end) into one frame. */
export function build(...parts: Part[]): Uint8Array {
  const layers: Layer[] = [];
  const tail: Uint8Array[] = [];
  for (const p of parts) {
    if (isLayer(p)) {
      if (tail.length) throw craftError(`layer "${p.name}" after raw payload bytes`);
      layers.push(p);
    } else tail.push(typeof p === "string" ? ascii(p) : p);
  }
  let bytes = concat(...tail);
  // The nearest enclosing IP for each layer, found outside-in.
  const ipFor: (Layer | undefined)[] = [];
  let ip: Layer | undefined;
  for (const l of layers) {
    ipFor.push(ip);
    if (l.pseudo) ip = l;
  }
  for (let i = layers.length - 1; i >= 0; i--) {
    bytes = layers[i]!.encode(bytes, { inner: layers[i + 1], ip: ipFor[i] });
  }
  return bytes;
}

/** The next-protocol number for an outer field, from an explicit value, the inner layer, or a default. */
export function pick(explicit: number | undefined, inner: number | undefined, fallback: number): number {
  return explicit ?? inner ?? fallback;
}
