/// <reference types="vitest/config" />
import { defineConfig } from "vite";

// The app is served by Tauri from ui/dist under a strict CSP
// (script-src 'self'; style-src 'self'): everything must be a file, nothing
// inlined into index.html, nothing loaded from the network.
export default defineConfig({
  clearScreen: false,
  base: "./",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    // Keep assets as files so that no data: URLs are needed besides thumbnails.
    assetsInlineLimit: 0,
    cssCodeSplit: false,
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
  server: {
    port: 1420,
    strictPort: true,
  },
  test: {
    environment: "happy-dom",
    include: ["src/**/*.test.ts"],
  },
});
