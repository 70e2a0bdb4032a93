import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteEventStore } from '@sluice/event-store';
import type { EventStore } from '@sluice/event-store';
import { parseEvent } from '@sluice/schemas';
import type { SluiceEvent } from '@sluice/schemas';
import { TouchpointConflictError, appendTouchpoints } from './append.js';

let store: EventStore;
beforeEach(async () => {
  store = await openSqliteEventStore({ path: ':memory:' });
});
afterEach(async () => {
  await store.close();
});

function valid(input: Record<string, unknown>): SluiceEvent {
  const parsed = parseEvent({ occurredAt: '2026-03-01T10:00:00+01:00', ...input });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.event;
}

const form = (id: string, leadId = 'lead-1') => valid({ id, type: 'form_submit', anonymousId: 'anon-1', leadId, properties: { formId: 'trial', x: { utm: 'a', page: '/p' } } });
const payment = (id: string, amount: number) => valid({ id, type: 'payment', leadId: 'lead-1', properties: { amount, currency: 'EUR' } });

async function conflictOf(events: SluiceEvent[]): Promise<TouchpointConflictError> {
  const err = await appendTouchpoints(store, events).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TouchpointConflictError);
  return err as TouchpointConflictError;
}

describe('appendTouchpoints: same id, same or different content', () => {
  it('given a form that derived an identity link, when it is retried with its properties in another key order, then the form and its link are duplicates', async () => {
    const first = await appendTouchpoints(store, [form('f1'), payment('p1', 100)]);
    const head = await store.headPosition();
    const reordered = { ...form('f1'), properties: { x: { page: '/p', utm: 'a' }, formId: 'trial' } } as SluiceEvent;

    const retry = await appendTouchpoints(store, [reordered, payment('p1', 100)]);

    expect(retry).toEqual({ accepted: 0, duplicates: 2, positions: first.positions });
    expect(await store.headPosition()).toBe(head);
    expect((await store.readAll()).map((e) => e.id).sort()).toEqual(['f1', 'f1~link', 'p1']);
  });

  it('given a stored payment, when a corrected one comes with the same id, then the batch fails naming it by index and nothing is written', async () => {
    await appendTouchpoints(store, [payment('p1', 100)]);
    const head = await store.headPosition();

    const err = await conflictOf([payment('p2', 50), payment('p1', 120), form('f1')]);

    expect({ code: err.code, conflicts: err.conflicts }).toEqual({ code: 'EVENT_ID_CONFLICT', conflicts: [{ index: 1, id: 'p1' }] });
    expect(await store.headPosition()).toBe(head);
  });

  it('when one batch carries an id twice with different content (its derived link differing too), then it is one conflict naming the earlier event', async () => {
    const err = await conflictOf([form('f1', 'lead-1'), payment('p1', 100), form('f1', 'lead-2')]);

    expect(err.conflicts).toEqual([{ index: 2, id: 'f1', earlierIndex: 0 }]);
    expect(await store.headPosition()).toBe(0);
  });

  it('given an id stored without a link, when two copies that link it to different leads come, then each conflicts with the stored event', async () => {
    await appendTouchpoints(store, [valid({ id: 'f1', type: 'form_submit', leadId: 'lead-1', properties: { formId: 'trial' } })]);

    const err = await conflictOf([form('f1', 'lead-1'), form('f1', 'lead-2')]);

    expect(err.conflicts).toEqual([
      { index: 0, id: 'f1' },
      { index: 1, id: 'f1' },
    ]);
  });
});
