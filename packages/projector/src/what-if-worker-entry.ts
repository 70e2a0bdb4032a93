// The worker thread's side of runWhatIfInWorker: the thread opens its own
// event store (handles do not cross threads) with the opener it was named,
// replays, posts the result back.
import { parentPort, workerData } from 'node:worker_threads';
import type { EventStore } from '@sluice/event-store';
import type { EventStoreChoice } from '@sluice/schemas';
import { whatIf } from './what-if.js';
import type { WhatIfWorkerMessage, WhatIfWorkerRequest } from './what-if-worker.js';

const { store: where, ...options } = workerData as WhatIfWorkerRequest;
const post = (message: WhatIfWorkerMessage) => parentPort!.postMessage(message);
const { openConfiguredEventStore } = (await import(where.opener)) as { openConfiguredEventStore(choice: EventStoreChoice, dataDir: string): Promise<EventStore> };
const store = await openConfiguredEventStore(where.choice, where.dataDir);
try {
  post({ result: await whatIf({ ...options, store, onProgress: (progress) => post({ progress }) }) });
} finally {
  await store.close();
}
