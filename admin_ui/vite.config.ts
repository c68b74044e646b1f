import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// Served by the API at /admin (api: the SPA route), and by nginx at /admin/ in compose.
// `npm run dev` proxies the API, so the dev server is same-origin too (cookies, no CORS).
export default defineConfig({
  base: "/admin/",
  plugins: [react()],
  server: {
    port: 5173,
    proxy: { "/api": process.env.API_URL ?? "http://127.0.0.1:8000" },
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
  },
  test: {
    include: ["src/**/*.test.ts"],
    environment: "node",
  },
});
