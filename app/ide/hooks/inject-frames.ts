/**
 * The frames a loaded host is test-run on: a fixed generated mix of Ethernet traffic (lib/craft),
 * so the e2e spec can hand tcpdump the very same frames as its oracle.
 */
import { generateMix, type CraftedPacket } from "../../../lib/craft";

export const TEST_FRAMES = 64;
/** Frames sent into the demo network per "send": the untagged test frames, cycled this many times. */
export const SEND_CYCLES = 20;
const TEST_SEED = 20261204;

export const injectTestFrames = (): CraftedPacket[] => generateMix(TEST_SEED, TEST_FRAMES, { dlt: 1, truncatedShare: 0 });

/** VLAN tag protocol identifiers: 802.1Q, 802.1ad, and the old QinQ value. */
const VLAN_TPIDS = new Set([0x8100, 0x88a8, 0x9100]);

/**
 * The test frames that cross the agent's demo network as they are: a veth pair strips or
 * consumes VLAN tags, so tagged frames would not reach the program as sent.
 */
export const demoFrames = (): Uint8Array[] => injectTestFrames().map((f) => f.data).filter(crossesVeth);

/** Whether an Ethernet frame reaches a program on the demo veth as it was sent (untagged, a whole header). */
export const crossesVeth = (d: Uint8Array): boolean => d.length >= 14 && !VLAN_TPIDS.has((d[12]! << 8) | d[13]!);
