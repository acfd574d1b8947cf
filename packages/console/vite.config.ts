import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Served by the catalog under /console/ (services/catalog/src/http/console-static.ts):
// every asset is a hashed file under /console/assets/, no inline script, no CDN.
export default defineConfig({
  base: '/console/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    // Inline nothing: the console's Content-Security-Policy allows only same-origin files.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
});
