/** localStorage with a prefix, never throwing (private mode, quota, disabled storage). */
const PREFIX = "bpfp.";

export function loadJson<T>(key: string, fallback: T): T {
  try {
    const raw = localStorage.getItem(PREFIX + key);
    return raw === null ? fallback : (JSON.parse(raw) as T);
  } catch {
    return fallback;
  }
}

export function saveJson(key: string, value: unknown): void {
  try {
    localStorage.setItem(PREFIX + key, JSON.stringify(value));
  } catch {
    // Storage full or unavailable: the layout simply is not remembered.
  }
}

export function loadString(key: string): string | null {
  try {
    return localStorage.getItem(PREFIX + key);
  } catch {
    return null;
  }
}

export function saveString(key: string, value: string): void {
  try {
    localStorage.setItem(PREFIX + key, value);
  } catch {
    // ignore
  }
}

export function clearLayout(): void {
  try {
    for (const k of Object.keys(localStorage)) if (k.startsWith(PREFIX + "layout.")) localStorage.removeItem(k);
  } catch {
    // ignore
  }
}
