import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // koffi loads a native addon and ws must not be bundled (see docs/stack-notes pitfalls 4 and 5).
  serverExternalPackages: ["koffi", "ws"],
  reactStrictMode: true,
  poweredByHeader: false,
  // The whole UI is one page; nothing may be fetched from the network at run time.
  images: { unoptimized: true },
  // The build checks the app and what it imports; `tsc -p .` checks the whole repository.
  typescript: { tsconfigPath: "tsconfig.app.json" },
};

export default nextConfig;
