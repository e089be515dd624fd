/**
 * The frames a loaded host is test-run on: a fixed generated mix of Ethernet traffic (lib/craft),
 * so the e2e spec can hand tcpdump the very same frames as its oracle.
 */
import { generateMix, type CraftedPacket } from "../../../lib/craft";

export const TEST_FRAMES = 64;
const TEST_SEED = 20261204;

export const injectTestFrames = (): CraftedPacket[] => generateMix(TEST_SEED, TEST_FRAMES, { dlt: 1, truncatedShare: 0 });
