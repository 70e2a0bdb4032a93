import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { BUNDLE_PATH, bundleTracker } from './bundle.js';

const text = await bundleTracker();
writeFileSync(BUNDLE_PATH, text);
console.log(`${BUNDLE_PATH}: ${text.length} bytes, ${gzipSync(text).length} gzipped`);
