// The dashboard's build: `vite build dashboard` (npm run build) writes dashboard/dist,
// which the service serves at GET / (src/http/dashboard.ts).
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/',
  // Preact's automatic JSX runtime; no React, no Babel.
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2022',
    sourcemap: false,
    // The CSP forbids inline scripts and styles: everything goes to files under /assets/.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
});
