/**
 * BPF_PROG_TEST_RUN over many packets with one program, reusing its native buffers.
 *
 * server/kernel/test-run.ts allocates five native buffers per call, which costs far more than
 * the syscall itself (about 70 µs against 10 µs per packet, measured): fine for one packet, slow
 * for a capture. This runner keeps one attribute block and one data buffer for its lifetime and
 * asks for no data_out (verdicts need only retval). Framing is the kernel layer's
 * (frameForTestRun), so the rules for what each program type sees at offset 0 stay in one place.
 */
import { sysBpf, BPF_PROG_TEST_RUN } from "../native/bpf";
import { NativeMem } from "../native/libc";
import { SyscallError, errnoName } from "../native/errno";
import { frameForTestRun, ETH_HLEN } from "./test-run";
import type { ProgKind } from "./prog-types";
import { PlaygroundError } from "../../lib/errors";


export type PacketRun =
  /** `matchedRuns`: for a host program judged by its counts map (host-verdict.ts), the runs its stub accepted. */
  | { ok: true; retval: number; durationNs: number; matchedRuns?: number }
  | { ok: false; code: string; message: string; errno?: number; errnoName?: string };

const ATTR_SIZE = 80;
const EINTR = 4;
const MAX_RETRIES = 5;
const MAX_DATA = 65535 + ETH_HLEN;
/** What an skb test run accepts with 4 KiB pages (measured by the kernel layer). */
const SKB_TEST_RUN_MAX = 3712;

export class PacketRunner {
  #attr = new NativeMem(ATTR_SIZE);
  #data = new NativeMem(MAX_DATA);
  #closed = false;

  constructor(
    readonly fd: number,
    readonly kind: ProgKind,
  ) {}

  /** One test run; never throws for a packet the kernel refuses (that is an error entry). */
  run(packet: Uint8Array, linkType: number, repeat = 1): PacketRun {
    if (this.#closed) throw new PlaygroundError("agent/closed", "the test runner is closed");
    let framed;
    try {
      framed = frameForTestRun(this.kind, packet, linkType);
    } catch (e) {
      if (e instanceof PlaygroundError) return { ok: false, code: e.code, message: e.message };
      throw e;
    }
    const data = framed.data;
    if (data.length > MAX_DATA) return { ok: false, code: "kernel/test-run-too-large", message: `a packet of ${packet.length} bytes is too large for a test run` };
    this.#data.bytes.set(data, 0);
    const v = this.#attr.view;
    this.#attr.bytes.fill(0);
    v.setUint32(0, this.fd, true); // prog_fd
    v.setUint32(8, data.length, true); // data_size_in
    v.setBigUint64(16, this.#data.address, true); // data_in
    v.setUint32(32, repeat, true); // repeat
    let { ret, errno } = sysBpf(BPF_PROG_TEST_RUN, this.#attr, ATTR_SIZE);
    // With repeat > 1 the kernel gives up with EINTR when a signal is pending (a child exiting,
    // SIGCHLD): not the packet's fault, so run it again.
    for (let retry = 0; ret < 0 && errno === EINTR && retry < MAX_RETRIES; retry++) ({ ret, errno } = sysBpf(BPF_PROG_TEST_RUN, this.#attr, ATTR_SIZE));
    if (ret < 0) {
      const name = errnoName(errno);
      const err = new SyscallError("BPF_PROG_TEST_RUN", errno);
      if (name === "EINVAL" && this.kind !== "xdp" && data.length > SKB_TEST_RUN_MAX) {
        // Not a verdict: the kernel will not build an skb this large for a test run.
        const message = `${err.message} (${data.length} bytes exceed what an skb test run takes, ${SKB_TEST_RUN_MAX})`;
        return { ok: false, code: "kernel/test-run-too-large", message, errno, errnoName: name };
      }
      return { ok: false, code: err.code, message: err.message, errno, errnoName: name };
    }
    return { ok: true, retval: v.getUint32(4, true), durationNs: v.getUint32(36, true) };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#attr.free();
    this.#data.free();
  }
}
