import { defineConfig } from 'vite';

// One page served by the API at `/`: assets under /assets/ named by content hash
// (the API caches those as immutable), index.html revalidated on every load.
export default defineConfig({
  base: '/',
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 1024 },
  server: { proxy: { '/v1': 'http://127.0.0.1:4780' } },
});
