import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isPlaygroundError } from "../errors";
import { encodeBtfExt, readBtfExt, type BtfExt, type ExtInfo } from "./btf-ext";

const u32 = fc.nat({ max: 0xffffffff });

function info<R>(min: number, record: fc.Arbitrary<R>): fc.Arbitrary<ExtInfo<R>> {
  return fc.nat({ max: 3 }).chain((extraWords) =>
    fc.record({
      recordSize: fc.constant(min + 4 * extraWords),
      sections: fc.array(
        fc.record({
          secNameOff: u32,
          records: fc.array(
            fc.record({ record, extra: fc.uint8Array({ minLength: 4 * extraWords, maxLength: 4 * extraWords }) }).map((r) => (extraWords ? r : { record: r.record })),
            { minLength: 1, maxLength: 5 },
          ),
        }),
        { maxLength: 3 },
      ),
    }),
  ).map((i) => (i.sections.length === 0 ? { recordSize: min, sections: [] } : i));
}

const ext: fc.Arbitrary<BtfExt> = fc.boolean().chain((core) =>
  fc.record({
    version: fc.constant(1),
    flags: fc.nat({ max: 255 }),
    hdrLen: fc.constant(core ? 32 : 24),
    funcInfo: info(8, fc.record({ insnOff: u32, typeId: u32 })),
    lineInfo: info(16, fc.record({ insnOff: u32, fileNameOff: u32, lineOff: u32, line: fc.nat({ max: 0x3fffff }), column: fc.nat({ max: 0x3ff }) })),
    ...(core ? { coreRelo: info(16, fc.record({ insnOff: u32, typeId: u32, accessStrOff: u32, kind: u32 })) } : {}),
  }),
);

describe(".BTF.ext codec", () => {
  it("decoding what it encodes gives the same records back", () => {
    fc.assert(
      fc.property(ext, (e) => {
        expect(readBtfExt(encodeBtfExt(e))).toEqual(e);
      }),
    );
  });

  it("every truncation of an encoding is a PlaygroundError with a position inside it", () => {
    fc.assert(
      fc.property(ext, fc.nat(), (e, cut) => {
        const bytes = encodeBtfExt(e);
        const short = bytes.subarray(0, cut % bytes.length);
        try {
          readBtfExt(short);
        } catch (err) {
          expect(isPlaygroundError(err)).toBe(true);
          if (isPlaygroundError(err) && err.position.kind === "byte") expect(err.position.offset).toBeLessThanOrEqual(short.length);
          return;
        }
        // A cut that drops only empty blocks can still read; then it must read the same header.
        expect(readBtfExt(short).hdrLen).toBe(e.hdrLen);
      }),
    );
  });
});
