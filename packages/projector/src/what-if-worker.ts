import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { EventStoreChoice } from '@sluice/schemas';
import type { ReplayProgress } from './rebuild.js';
import type { WhatIfOptions, WhatIfResult } from './what-if.js';

/** How a worker opens the event store for itself: a store handle cannot cross threads, this description can. */
export interface WhatIfStoreDescription {
  choice: EventStoreChoice;
  /**
   * the URL of the module the worker imports to open it, which exports
   * `openConfiguredEventStore(choice, dataDir)` (@sluice/app's `storeOpener`):
   * choosing an adapter is the composition's, not this package's
   */
  opener: string;
  /** the data directory: the SQLite log's home, and where the scratch models are made */
  dataDir: string;
}

export interface WhatIfInWorkerOptions extends Omit<WhatIfOptions, 'store' | 'scratch'> {
  store: WhatIfStoreDescription;
  /** the worker's heap ceiling in MiB (default WHATIF_MAX_HEAP_MB); past it the worker dies and the call fails with WhatIfOutOfMemoryError */
  maxHeapMb?: number;
  /** aborting terminates the worker (a client that went away); the call then rejects with the signal's reason */
  signal?: AbortSignal;
}

// Measured on the demo data: 10,000 subjects a side replay a 600k-event log
// within 512 MiB (the whole process peaked at 760 MB RSS); 50,000 a side
// outgrew it. Fewer subjects in memory mean more streams folded again.
const WHATIF_MAX_HEAP_MB = 512;
const WHATIF_CACHE_SIZE = 10_000;

/** What the worker's entry receives as workerData. */
export type WhatIfWorkerRequest = Omit<WhatIfInWorkerOptions, 'maxHeapMb' | 'signal' | 'onProgress'> & Pick<WhatIfOptions, 'scratch'>;
/** What the worker's entry posts back. */
export type WhatIfWorkerMessage = { progress: ReplayProgress } | { result: WhatIfResult };

/** The what-if worker outgrew its heap ceiling: a log too long for the bound, not a fault of the request. */
export class WhatIfOutOfMemoryError extends Error {
  constructor(readonly maxHeapMb: number) {
    super(`the what-if replay needed more than its ${maxHeapMb} MiB memory bound`);
    this.name = 'WhatIfOutOfMemoryError';
  }
}

/**
 * whatIf() in a worker thread with a bounded heap, so the caller's event loop
 * stays free for the whole replay (better-sqlite3 is synchronous: in-process,
 * a long log holds the loop for as long as it takes). The worker opens its
 * own store from `store`, replays into scratch models on disk in the data
 * directory (their pages stay out of the heap) and exits; the call settles
 * once it has.
 */
export async function runWhatIfInWorker(options: WhatIfInWorkerOptions): Promise<WhatIfResult> {
  const { maxHeapMb = WHATIF_MAX_HEAP_MB, signal, onProgress, ...request } = options;
  signal?.throwIfAborted();
  // made and removed here, not in the worker: a worker terminated or out of memory never runs its own clean-up
  const scratch = mkdtempSync(join(request.store.dataDir, 'sluice-whatif-'));
  const workerData: WhatIfWorkerRequest = { cacheSize: WHATIF_CACHE_SIZE, ...request, scratch: { dir: scratch } };
  const worker = new Worker(new URL('./what-if-worker-boot.mjs', import.meta.url), {
    workerData,
    // not the parent's flags: under `pnpm sluice` they load tsx, which the boot module registers itself
    execArgv: [],
    resourceLimits: { maxOldGenerationSizeMb: maxHeapMb },
  });
  const terminate = () => void worker.terminate();
  signal?.addEventListener('abort', terminate, { once: true });
  let result: WhatIfResult | undefined;
  let failure: unknown;
  worker.on('message', (message: WhatIfWorkerMessage) => {
    if ('progress' in message) onProgress?.(message.progress);
    else result = message.result;
  });
  worker.once('error', (err: Error & { code?: string }) => {
    failure = err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? new WhatIfOutOfMemoryError(maxHeapMb) : err;
  });
  const code = await new Promise<number>((resolve) => worker.once('exit', resolve));
  signal?.removeEventListener('abort', terminate);
  rmSync(scratch, { recursive: true, force: true });
  // aborted means no longer wanted, even if the answer beat the termination
  signal?.throwIfAborted();
  if (result !== undefined) return result;
  throw failure ?? new Error(`the what-if worker exited with code ${code} before answering`);
}
