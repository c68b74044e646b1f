import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";
import { VitePWA } from "vite-plugin-pwa";

// The customer app: served by the API at /app (api/spa.py), same-origin with it. `npm run dev`
// proxies the API, so the dev server is same-origin too (cookies, no CORS).
export default defineConfig({
  base: "/app/",
  plugins: [
    react(),
    VitePWA({
      registerType: "autoUpdate",
      injectRegister: false, // src/main.tsx registers it (workbox-window), after the first paint
      filename: "sw.js",
      manifest: {
        id: "/app/",
        name: "HomePlans",
        short_name: "HomePlans",
        description: "Home maintenance plans and service visits",
        lang: "en",
        start_url: "/app/",
        scope: "/app/",
        display: "standalone",
        orientation: "portrait",
        theme_color: "#0b5c4c",
        background_color: "#ffffff",
        icons: [
          { src: "icons/icon-192.png", sizes: "192x192", type: "image/png" },
          { src: "icons/icon-512.png", sizes: "512x512", type: "image/png" },
          { src: "icons/maskable-512.png", sizes: "512x512", type: "image/png", purpose: "maskable" },
        ],
      },
      workbox: {
        // A new worker takes over at once, and the page that installed it too (so the catalog is
        // cached from the first visit on).
        skipWaiting: true,
        clientsClaim: true,
        // The app shell: every built file, so the app opens offline.
        globPatterns: ["**/*.{js,css,html,png,svg,webmanifest}"],
        // Firebase (Google sign-in, web push) is loaded only by those who use it: not precached.
        globIgnores: ["**/firebase-*.js"],
        navigateFallback: "/app/index.html",
        navigateFallbackAllowlist: [/^\/app\//],
        runtimeCaching: [
          {
            // The public catalog and the app's configuration: from the network while there is
            // one (the browser revalidates with the API's ETags), from the cache when offline.
            urlPattern: ({ url }) =>
              url.pathname.startsWith("/api/v1/catalog/") || url.pathname === "/api/v1/app/config",
            handler: "NetworkFirst",
            options: {
              cacheName: "catalog",
              networkTimeoutSeconds: 4,
              expiration: { maxEntries: 200, maxAgeSeconds: 30 * 86_400 },
              cacheableResponse: { statuses: [200] },
            },
          },
        ],
      },
    }),
  ],
  server: {
    port: 5174,
    proxy: { "/api": process.env.API_URL ?? "http://127.0.0.1:8000" },
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    rollupOptions: {
      output: {
        chunkFileNames: (chunk) =>
          chunk.moduleIds.some((id) => /[\\/]@?firebase[\\/]/.test(id))
            ? "assets/firebase-[hash].js"
            : "assets/[name]-[hash].js",
      },
    },
  },
  test: {
    include: ["src/**/*.test.ts"],
    environment: "node",
  },
});
