import { existsSync, readFileSync } from "node:fs";

/** The process is gone, or a zombie waiting for a parent that will never care. */
export function processGone(pid: number): boolean {
  if (!existsSync(`/proc/${pid}`)) return true;
  try {
    return /\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true;
  }
}
