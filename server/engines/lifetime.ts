/**
 * Kernel objects a `run` engine made for one link type: they live while the verdict function
 * that uses them is reachable, and are closed when it is collected or when the process exits,
 * whichever comes first. One registry for every engine that holds kernel objects.
 */
interface Closable {
  close(): void;
}

const open = new Set<Closable>();
const collected = new FinalizationRegistry<Closable>((r) => {
  r.close();
  open.delete(r);
});
let exitHook = false;

/** Ties `resource` to `owner` (the verdict function) and returns `owner`. */
export function closeWith<T extends object>(owner: T, resource: Closable): T {
  open.add(resource);
  if (!exitHook) {
    exitHook = true;
    process.on("exit", () => {
      for (const r of open) r.close();
    });
  }
  collected.register(owner, resource);
  return owner;
}
