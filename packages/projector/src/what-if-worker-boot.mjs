// The worker thread's first module, in plain JavaScript because nothing has
// taught the thread TypeScript yet: a worker started under vitest has no
// loader, so it registers tsx's (the workspace runs its sources through tsx),
// then loads the TypeScript entry.
import { register } from 'tsx/esm/api';

register();
await import('./what-if-worker-entry.ts');
