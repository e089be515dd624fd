/**
 * The IDE's event hub (app/ide/events.ts): topics keep their latest value and notify only on a
 * change, signals reach the listeners present when they are sent and keep nothing. vitest does
 * not collect app/, so the test lives here; the hub class has no DOM dependency.
 */
import { describe, expect, it } from "vitest";
import { EventHub } from "../../app/ide/events";

describe("EventHub topics", () => {
  it("a late reader sees the latest value; a seeded topic has its value before any publish", () => {
    const hub = new EventHub({ "packet.selected": 3 });
    expect(hub.get("packet.selected")).toBe(3);
    expect(hub.get("fatal", "none yet")).toBe("none yet");
    hub.publish("fatal", "worker died");
    hub.publish("fatal", "worker died again");
    expect(hub.get("fatal", "none yet")).toBe("worker died again");
  });

  it("notifies watchers on a change only, and no more after they unsubscribe", () => {
    const hub = new EventHub({ "packet.selected": null });
    let a = 0;
    let b = 0;
    const stopA = hub.watch("packet.selected", () => a++);
    hub.watch("packet.selected", () => b++);
    hub.publish("packet.selected", 1);
    hub.publish("packet.selected", 1); // the same value: nobody re-renders
    expect([a, b]).toEqual([1, 1]);
    stopA();
    hub.publish("packet.selected", 2);
    expect([a, b]).toEqual([1, 2]);
    // A watcher of another topic is not told.
    let other = 0;
    hub.watch("capture.error", () => other++);
    hub.publish("packet.selected", 5);
    expect(other).toBe(0);
  });

  it("update applies a function to the current value", () => {
    const hub = new EventHub({ "debug.breakpoints": { cbpf: [1], ebpf: [] } });
    const before = hub.get("debug.breakpoints");
    hub.update("debug.breakpoints", (b) => ({ ...b, ebpf: [4] }));
    expect(hub.get("debug.breakpoints")).toEqual({ cbpf: [1], ebpf: [4] });
    expect(before).toEqual({ cbpf: [1], ebpf: [] });
    // An update that returns the same object notifies nobody.
    let n = 0;
    hub.watch("debug.breakpoints", () => n++);
    hub.update("debug.breakpoints", (b) => b);
    expect(n).toBe(0);
  });
});

describe("EventHub signals", () => {
  it("reach every listener present, in order, and keep nothing for later listeners", () => {
    const hub = new EventHub();
    const seen: string[] = [];
    const stop = hub.on("toast", (m) => seen.push(`a:${m}`));
    hub.on("toast", (m) => seen.push(`b:${m}`));
    hub.emit("toast", "one");
    stop();
    hub.emit("toast", "two");
    const late: string[] = [];
    hub.on("toast", (m) => late.push(m));
    expect(seen).toEqual(["a:one", "b:one", "b:two"]);
    expect(late).toEqual([]);
  });

  it("a listener that unsubscribes while a signal is delivered does not stop the others", () => {
    const hub = new EventHub();
    const seen: number[] = [];
    const stop = hub.on("cbpf.reveal", () => stop());
    hub.on("cbpf.reveal", ({ index }) => seen.push(index));
    hub.emit("cbpf.reveal", { index: 7 });
    hub.emit("cbpf.reveal", { index: 8 });
    expect(seen).toEqual([7, 8]);
  });
});
