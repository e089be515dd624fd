/**
 * A capture file's bytes as they are read, for lib/pcap's incremental reader: one read(2) per
 * chunk, each into a fresh buffer (packets read from a chunk are views into it, so it is never
 * reused). Endless inputs (/dev/zero, a FIFO) are fine: the reader refuses a bad header after
 * the first chunk and the caller stops pulling, which closes the file.
 */
import type { FileHandle } from "node:fs/promises";

export const CHUNK_BYTES = 1 << 20;

export async function* fileChunks(handle: FileHandle, chunkBytes = CHUNK_BYTES): AsyncGenerator<Uint8Array, void, void> {
  try {
    for (;;) {
      const buf = new Uint8Array(chunkBytes);
      const { bytesRead } = await handle.read(buf, 0, chunkBytes, null);
      if (bytesRead === 0) return;
      yield bytesRead === chunkBytes ? buf : buf.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}
