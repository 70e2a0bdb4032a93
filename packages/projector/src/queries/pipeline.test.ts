import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventStore } from '@sluice/event-store';
import { openProjectionStore, pipelineCounts, rebuild } from '../index.js';
import type { ProjectionStore } from '../index.js';
import { type TempDir, appendAll, demoRules, eventsFor, isoAt, openEventStore, tempDir } from '../test-support.js';

const rules = demoRules();

describe('pipelineCounts', () => {
  let tmp: TempDir;
  let store: EventStore;
  let projections: ProjectionStore;
  beforeEach(async () => {
    tmp = tempDir();
    store = await openEventStore(tmp.path('events.sqlite'));
    projections = openProjectionStore(tmp.path('projections.sqlite'));
  });
  afterEach(async () => {
    projections.close();
    await store.close();
    tmp.remove();
  });

  it('given an open SQL, a disqualified lead and an open lead, then only the open ones are held, per stage', async () => {
    const sql = eventsFor({ leadId: 'held-sql' }, 'hs');
    const junk = eventsFor({ leadId: 'junk' }, 'jk');
    const lead = eventsFor({ leadId: 'held-lead' }, 'hl');
    await appendAll(store, [
      sql('demo_requested', isoAt(0)),
      junk('form_submit', isoAt(0, 60), { formId: 'f' }),
      junk('disqualified', isoAt(1), { reason: 'spam' }),
      lead('form_submit', isoAt(2), { formId: 'f' }),
    ]);
    await rebuild({ store, projections, config: rules });
    expect(pipelineCounts(projections)).toEqual({ sql: 1, lead: 1 });
  });
});
