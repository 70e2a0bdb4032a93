import { describe, expect, it } from 'vitest';
import { pipelineCounts, rebuild } from '../index.js';
import { appendAll, demoRules, eventsFor, isoAt } from '../test-support.js';
import { freshStores } from '../test-stores.js';

const rules = demoRules();

describe('pipelineCounts', () => {
  const fresh = freshStores();

  it('given an open SQL, a disqualified lead and an open lead, then only the open ones are held, per stage', async () => {
    const { store, projections } = fresh;
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
