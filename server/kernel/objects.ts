/**
 * Every BPF program and link that exists on the machine right now, by walking the kernel's ID
 * tables (BPF_*_GET_NEXT_ID, then a short-lived fd per object to read its info). Used to prove
 * that a killed owner left nothing behind.
 */
import { progIds, linkIds, progFdById, linkFdById } from "../native/bpf";
import { closeFd } from "../native/libc";
import { progInfo, type ProgInfo } from "./inspect";
import { linkInfo, type LinkInfo } from "./attach";

/** Objects can vanish between listing and opening; those are skipped. */
function each<T>(ids: number[], open: (id: number) => number | null, read: (fd: number) => T): T[] {
  const out: T[] = [];
  for (const id of ids) {
    const fd = open(id);
    if (fd === null) continue;
    try {
      out.push(read(fd));
    } finally {
      closeFd(fd);
    }
  }
  return out;
}

export function listPrograms(): ProgInfo[] {
  return each(progIds(), progFdById, progInfo);
}

export function listLinks(): LinkInfo[] {
  return each(linkIds(), linkFdById, linkInfo);
}
