import { describe, expect, it } from "vitest";
import { isPlaygroundError, type PlaygroundError } from "../errors";
import { ByteReader } from "./reader";

const caught = (fn: () => unknown): PlaygroundError => {
  try {
    fn();
  } catch (e) {
    if (isPlaygroundError(e)) return e;
    throw e;
  }
  throw new Error("no error");
};

describe("ByteReader", () => {
  const bytes = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 0x41, 0x42, 0, 0x43]);

  it("reads little-endian values inside its window", () => {
    const r = new ByteReader(bytes, 0, bytes.length, "t/x", "test");
    expect(r.u16(0)).toBe(0x0201);
    expect(r.u32(4)).toBe(0x08070605);
    expect(r.u64(0)).toBe(0x0807060504030201n);
    expect(r.cstring(8)).toBe("AB");
  });

  it("refuses reads past a sub-window with the absolute offset and the reader's code", () => {
    const sub = new ByteReader(bytes, 0, bytes.length, "t/x", "file").sub(4, 4, "inner", "t/inner");
    const e = caught(() => sub.u32(6));
    expect(e.code).toBe("t/inner");
    expect(e.position).toEqual({ kind: "byte", offset: 6 });
    expect(caught(() => sub.u8(3)).position).toEqual({ kind: "byte", offset: 4 });
  });

  it("refuses unterminated strings, windows outside the input and unsafe u64 sizes", () => {
    const r = new ByteReader(bytes, 0, 11, "t/x", "test");
    expect(caught(() => r.cstring(11)).code).toBe("t/x");
    expect(caught(() => new ByteReader(bytes, 4, 100, "t/x", "w")).position).toEqual({ kind: "byte", offset: 4 });
    const big = new Uint8Array(8).fill(0xff);
    expect(caught(() => new ByteReader(big, 0, 8, "t/x", "n").u64n(0)).message).toMatch(/too large/);
  });
});
