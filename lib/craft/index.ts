export * from "./layer";
export * from "./link";
export * from "./ip";
export * from "./transport";
export * from "./tunnel";
export * from "./addr";
export { inetChecksum, crc32c, concat } from "./bytes";
export { Rng } from "./rng";
export { generateMix, mixDlts, type CraftedPacket, type MixOptions } from "./mix";
