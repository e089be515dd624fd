/** The link types the drop-down offers: the common ones first, then every type libpcap 1.10.3 knows. */
import { LINK_TYPES } from "../../lib/pcap/linktypes";
import { mixDlts } from "../../lib/craft";

const COMMON = [1, 12, 113, 276, 0, 108, 9, 228, 229, 105, 127, 104, 50, 51, 6, 10];
const generatable = new Set(mixDlts());

export interface DltChoice {
  dlt: number;
  name: string;
  generate: boolean;
}

const label = (t: { name: string; description: string }) => `${t.name} — ${t.description}`;

export const COMMON_DLTS: DltChoice[] = [
  ...COMMON.map((d) => LINK_TYPES.find((t) => t.dlt === d)).filter((t): t is (typeof LINK_TYPES)[number] => !!t),
  ...LINK_TYPES.filter((t) => !COMMON.includes(t.dlt) && !t.newer),
].map((t) => ({ dlt: t.dlt, name: label(t), generate: generatable.has(t.dlt) }));
