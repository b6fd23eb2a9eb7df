import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The gateway serves dist/ itself, on its own origin, under a CSP without inline script: Vite's output is
// one index.html that loads hashed files from /assets/ (no inline script, no CDN, no external font).
export default defineConfig({
  plugins: [react()],
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    // Every browser the console supports has <link rel="modulepreload">; the polyfill would be dead weight.
    modulePreload: { polyfill: false },
    sourcemap: false,
    target: 'es2022',
  },
});
