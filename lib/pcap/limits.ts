/**
 * The largest records libpcap's savefile readers accept. A length field beyond these is damage,
 * not a packet: the reader refuses it at the header instead of waiting for (or allocating) the
 * bytes it claims.
 */

/** libpcap's MAXIMUM_SNAPLEN: the snapshot it assumes when a file's snaplen is 0 or absurd. */
export const MAX_SNAPLEN = 262144;

/** libpcap's max_snaplen_for_dlt: a few link types carry records larger than MAXIMUM_SNAPLEN. */
export function maxSnaplenForDlt(dlt: number): number {
  switch (dlt) {
    case 231: // DLT_DBUS
      return 128 * 1024 * 1024;
    case 279: // DLT_EBHSCR
      return 8 * 1024 * 1024;
    case 249: // DLT_USBPCAP
      return 1024 * 1024;
    default:
      return MAX_SNAPLEN;
  }
}

/** sf-pcapng's starting bound on a block's total length (it grows for interfaces with larger records). */
export const PCAPNG_MAX_BLOCK = 16 * 1024 * 1024;

/** The block bound for a section whose interfaces allow records of `maxSnaplen` bytes. */
export function pcapngMaxBlock(maxSnaplen: number): number {
  // An EPB's fixed part and options on top of the data, as sf-pcapng allows for.
  return Math.max(PCAPNG_MAX_BLOCK, maxSnaplen + 131072);
}
