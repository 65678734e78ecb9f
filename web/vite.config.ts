import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

declare const process: { env: Record<string, string | undefined> };

// The API's base path is decided at run time by /config.json (the edge serves it); VITE_API_BASE
// is only the fallback baked in at build time (default "/api": same origin, through the edge).
// `npm run dev` proxies /api to ASSISTEC_API_URL (the local stack's api_url) so no CORS is needed.
const apiUrl = process.env.ASSISTEC_API_URL;

export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", sourcemap: false, target: "es2022" },
  server: {
    host: "127.0.0.1",
    proxy: apiUrl
      ? { "/api": { target: apiUrl, changeOrigin: true, rewrite: (path) => path.replace(/^\/api/, "") } }
      : undefined,
  },
  test: { environment: "node", include: ["src/**/*.test.ts"] },
});
