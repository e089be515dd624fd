/**
 * The aligned diff of two instruction streams (objdiff's model): patience over normalised keys,
 * jumps and calls compared by where their targets went, rows, hunks and counts; and adapters from
 * what the page can show (raw sections, translations, the kernel's xlated dump). Isomorphic.
 */
export { diffStreams, diffInsns, baseKey, shapeKey, type RowKind, type DiffRow, type Hunk, type DiffSummary, type InsnDiff, type SectionDiff, type StreamsDiff } from "./align";
export { alignSequences, internKeys, type Match, type Aligned, type AlignOptions } from "./sequence";
export { formatDiff, type FormatDiffOptions } from "./format";
export { streamFromRaw, streamFromTranslation, streamFromXlated, concatStreams, labelTarget, type StreamOptions } from "./streams";
