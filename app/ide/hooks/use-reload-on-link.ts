/**
 * A share link (or a start URL) pasted into this tab's address bar changes only the fragment,
 * which does not reload the page; the page reads both at start, so start again.
 */
import { useEffect } from "react";

export function useReloadOnLink(): void {
  useEffect(() => {
    const onHash = () => {
      const params = new URLSearchParams(window.location.hash.replace(/^#/, ""));
      if (params.has("s") || params.has("agent")) window.location.reload();
    };
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);
}
