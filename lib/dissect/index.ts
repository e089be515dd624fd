export type { DissectNode, Summary } from "./node";
export { dissect, summarize, dissectWithSummary, dissectableDlts, summaryLine, type Dissection } from "./dissect";
export { formatIpv4, formatIpv6, formatMac } from "./format";
