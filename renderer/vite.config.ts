// Builds the workbench UI (renderer/) into dist/renderer. `base: './'` keeps every asset URL relative, so the same
// build loads under Electron's custom protocol and under the browser-mode HTTP server at any path.
import { fileURLToPath } from 'node:url';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: './',
  plugins: [vue()],
  resolve: { alias: { '@shared': fileURLToPath(new URL('../shared', import.meta.url)) } },
  build: {
    outDir: fileURLToPath(new URL('../dist/renderer', import.meta.url)),
    emptyOutDir: true,
    // Electron's Chromium and current browsers only; no legacy transforms.
    target: 'es2022',
    chunkSizeWarningLimit: 1200,
    sourcemap: true,
  },
});
