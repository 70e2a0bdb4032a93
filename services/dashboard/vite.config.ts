import { defineConfig } from 'vite';
import { compressedTwins } from './precompress.js';

// One page served by the API at `/`: assets under /assets/ named by content hash
// (the API caches those as immutable), index.html revalidated on every load;
// brotli and gzip twins of each, which the API sends to clients that accept them.
export default defineConfig({
  base: '/',
  plugins: [compressedTwins()],
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 1024 },
  server: { proxy: { '/v1': 'http://127.0.0.1:4780' } },
});
