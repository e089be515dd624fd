import type { Metadata, Viewport } from "next";
import "@fontsource-variable/inter";
import "@fontsource-variable/jetbrains-mono";
import "./globals.css";

export const metadata: Metadata = {
  title: "BPF Playground",
  description: "tcpdump filters to cBPF, eBPF, verifier traces and per-packet verdicts, live.",
};

export const viewport: Viewport = {
  colorScheme: "dark light",
};

// The theme is applied before first paint by a tiny inline script so the page never flashes the
// wrong colours; it reads the same localStorage key the IDE writes.
const THEME_BOOT = `try{var t=localStorage.getItem("bpfp.theme");if(t!=="light"&&t!=="dark"){t=matchMedia("(prefers-color-scheme: light)").matches?"light":"dark"}document.documentElement.dataset.theme=t}catch(e){document.documentElement.dataset.theme="dark"}`;

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en" suppressHydrationWarning>
      <head>
        <script dangerouslySetInnerHTML={{ __html: THEME_BOOT }} />
      </head>
      <body>{children}</body>
    </html>
  );
}
