export * from "./types";
export * from "./linktypes";
export * from "./read";
export * from "./write";
export { tsScaleFromResolution, splitTimestamp, joinTimestamp } from "./timestamp";
