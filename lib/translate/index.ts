/**
 * cBPF -> eBPF translation for four targets (socket, tc, xdp, kprobe), with provenance for every
 * emitted instruction, and the list of known semantic divergences from libpcap.
 */
export { translate, isTranslateRefusal, TRANSLATE_REFUSALS, DEFAULT_LOOP_BOUND, DEFAULT_HEADER_COPY_BYTES, PT_REGS_DI } from "./translate";
export type {
  Target,
  TranslateMode,
  ResultSpec,
  TranslateAbi,
  SocketAccess,
  TranslateOptions,
  Provenance,
  TranslateStats,
  TranslateResult,
} from "./types";
export { TARGETS } from "./types";
export { MAX_SAMPLE_BYTES } from "./epilogue";
export { MAX_PACKET_OFF } from "./direct";
export { programReach } from "./reach";
export { formatListing, type ListingLine } from "./listing";
export { DIVERGENCES, divergencesFor, type Divergence, type DivergenceCase } from "./divergences";
