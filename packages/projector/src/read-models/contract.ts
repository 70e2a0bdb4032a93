import type { EventStore } from '@sluice/event-store';
import type { RuleConfig } from '@sluice/schemas';
import { afterEach, describe, expect, it } from 'vitest';
import { type Projector, startProjector } from '../projector.js';
import { InvalidCursorError } from '../queries/leads.js';
import { SlaNotConfiguredError } from '../queries/sla-report.js';
import { type ProjectionStore, openProjectionStore } from '../store/projection-store.js';
import { appendAll, demoRules, eventsFor, isoAt, openEventStore, tempDir } from '../test-support.js';
import type { ReadModels } from './port.js';

export interface ProjectedReadModels {
  readonly readModels: ReadModels;
  /** lets `write` append more to the same log and resolves once the adapter's answers hold all of it */
  append(write: (log: EventStore) => Promise<void>): Promise<void>;
  close(): Promise<void>;
}

/** A log and the projector's SQLite read models of it, the live projector running (only it writes the change feed). */
export interface ProjectedLog {
  readonly store: EventStore;
  readonly projections: ProjectionStore;
  readonly projector: Projector;
  /** lets `write` append more and resolves once the projector has projected all of it */
  append(write: (log: EventStore) => Promise<void>): Promise<void>;
  close(): Promise<void>;
}

/** Where every adapter's `project` starts: a temporary log filled by `write`, projected under `rules` by the live projector into its SQLite file (or :memory:). */
export async function projectIntoSqlite(write: (log: EventStore) => Promise<void>, rules: RuleConfig, where: 'file' | ':memory:' = 'file'): Promise<ProjectedLog> {
  const tmp = tempDir();
  const store = await openEventStore(tmp.path('events.sqlite'));
  const projections = openProjectionStore(where === 'file' ? tmp.path('projections.sqlite') : ':memory:');
  await write(store);
  const projector = startProjector({ store, projections, config: rules });
  await projector.caughtUp();
  return {
    store,
    projections,
    projector,
    async append(more) {
      await more(store);
      await projector.caughtUp();
    },
    async close() {
      await projector.stop();
      projections.close();
      await store.close();
      tmp.remove();
    },
  };
}

/**
 * Opens an empty log, lets `write` fill it, projects all of it under `rules`
 * with the adapter's projector and answers through the adapter's port (opened
 * with the log and the rules, for a lead as of an instant).
 */
export type ProjectReadModels = (write: (log: EventStore) => Promise<void>, rules: RuleConfig) => Promise<ProjectedReadModels>;

const rules = demoRules();

/**
 * The log every case reads: an enterprise MQL (L1) whose first call comes an
 * hour after the SLA's 4-hour due time, an open SQL (S1, smb), a disqualified
 * lead (D1), an open lead (N1, partners), a visitor nobody claimed (v9), and
 * one event written past the schema that the projector parks.
 */
async function writeLog(log: EventStore): Promise<void> {
  const l1 = eventsFor({ leadId: 'L1' }, 'L1');
  const s1 = eventsFor({ leadId: 'S1' }, 'S1');
  const d1 = eventsFor({ leadId: 'D1' }, 'D1');
  const n1 = eventsFor({ leadId: 'N1' }, 'N1');
  const v9 = eventsFor({ anonymousId: 'v9' }, 'v9');
  await appendAll(log, [
    l1('identify', isoAt(0), { email: 'ann@bank.example', title: 'VP Finance', role: 'economic_buyer', companySize: 3000, industry: 'Financial Services', country: 'US', businessUnit: 'enterprise' }),
    s1('demo_requested', isoAt(0, 30)),
    d1('form_submit', isoAt(0, 60), { formId: 'f' }),
    l1('form_submit', isoAt(1), { formId: 'contact' }),
    l1('owner_assigned', isoAt(1, 5), { ownerId: 'rep-1' }),
    d1('disqualified', isoAt(1, 10), { reason: 'spam' }),
  ]);
  await log.append({ streamId: 'lead-L1', events: [{ id: 'bad-time', type: 'visit', data: { id: 'bad-time', type: 'visit', leadId: 'L1', occurredAt: 'yesterday' } }] });
  await appendAll(log, [
    l1('call', isoAt(1, 300), { direction: 'outbound', outcome: 'no_answer', durationSeconds: 0 }),
    n1('identify', isoAt(2), { email: 'nia@partner.example', businessUnit: 'partners' }),
    n1('form_submit', isoAt(2, 1), { formId: 'f' }),
    v9('visit', isoAt(3)),
  ]);
}

/**
 * What every ReadModels adapter must answer for the same log: run it with a
 * `project` that builds the adapter's read models (SQLite file, PostgreSQL).
 */
export function describeReadModelsContract(adapterName: string, project: ProjectReadModels): void {
  describe(`ReadModels contract: ${adapterName}`, () => {
    let opened: ProjectedReadModels | undefined;
    const projected = async (write = writeLog): Promise<ReadModels> => {
      opened = await project(write, rules);
      return opened.readModels;
    };
    afterEach(async () => {
      await opened?.close();
      opened = undefined;
    });

    it('given a projected log, then the head names the rules and stands at the last event', async () => {
      const readModels = await projected();
      const head = await readModels.head();
      expect(head).toMatchObject({ configVersion: 'demo-rules-1', position: 11 });
      expect(head.build).toEqual(expect.any(String));
    });

    it('given an empty log, then every answer is empty, not an error', async () => {
      const readModels = await projected(async () => undefined);
      expect(await readModels.listLeads()).toEqual({ items: [], nextCursor: undefined });
      expect(await readModels.lead('L1')).toBeUndefined();
      expect(await readModels.leadTransitions('L1')).toEqual([]);
      expect(await readModels.changeHead()).toBe(0);
      expect(await readModels.readChanges(0, 10)).toEqual([]);
      expect(await readModels.parked()).toEqual([]);
    });

    it('given a lead, then it is read as of its last event, and as of an instant folded again from the log', async () => {
      const readModels = await projected();
      const lead = (await readModels.lead('L1'))!;
      expect(lead).toMatchObject({ kind: 'lead', id: 'L1', stage: 'mql', owner: 'rep-1', businessUnit: 'enterprise', asOf: isoAt(1, 300), configVersion: 'demo-rules-1' });
      expect(lead.sla).toEqual({
        startedAt: isoAt(1),
        firstTouch: { dueAt: isoAt(1, 240), at: isoAt(1, 300), minutes: 300, status: 'breached' },
        attempts: { required: 6, count: 1, windowEndsAt: isoAt(8), status: 'pending' },
        breached: true,
      });
      const early = (await readModels.lead('L1', isoAt(1, 60)))!;
      expect(early).toMatchObject({ asOf: isoAt(1, 60), stage: 'mql', sla: { firstTouch: { status: 'pending', at: null } } });
      expect(early.scoreBreakdown).toBeDefined();
      expect(await readModels.lead('nobody')).toBeUndefined();
      expect((await readModels.leadTransitions('L1')).map((t) => [t.from, t.to, t.at, t.skipped])).toEqual([
        [null, 'visitor', isoAt(0), true],
        ['visitor', 'lead', isoAt(0), false],
        ['lead', 'mql', isoAt(1), false],
      ]);
    });

    it('given leads, then they are listed most recently touched first, filtered, a page at a time', async () => {
      const readModels = await projected();
      const ids = async (page: Promise<{ items: readonly { id: string }[] }>) => (await page).items.map((l) => l.id);
      expect(await ids(readModels.listLeads())).toEqual(['N1', 'L1', 'D1', 'S1']);
      expect(await ids(readModels.listLeads({ kind: 'anonymous' }))).toEqual(['v9']);
      expect(await ids(readModels.listLeads({ businessUnit: 'enterprise' }))).toEqual(['L1']);
      expect(await ids(readModels.listLeads({ owner: 'rep-1', stage: 'mql' }))).toEqual(['L1']);
      expect(await ids(readModels.listLeads({ slaBreached: true }))).toEqual(['L1']);
      const first = await readModels.listLeads({}, undefined, 3);
      expect(first.items.map((l) => l.id)).toEqual(['N1', 'L1', 'D1']);
      const second = await readModels.listLeads({}, first.nextCursor, 3);
      expect(second).toMatchObject({ items: [{ id: 'S1' }], nextCursor: undefined });
      await expect(readModels.listLeads({}, 'not-a-cursor')).rejects.toThrow(InvalidCursorError);
    });

    it('given leads in stages, then live conversion counts each cohort, and the pipeline holds the open leads', async () => {
      const readModels = await projected();
      const live = await readModels.liveConversion({ period: 'all', pairs: [{ from: 'lead', to: 'mql' }] });
      expect(live).toMatchObject({ configVersion: 'demo-rules-1', position: 11 });
      expect(live.rows.map(({ from, to, entered, converted }) => ({ from, to, entered, converted }))).toEqual([{ from: 'lead', to: 'mql', entered: 4, converted: 2 }]);
      expect(await readModels.heldPipeline({ stages: ['lead', 'mql', 'sql', 'opportunity', 'customer'] })).toEqual({ lead: 1, mql: 1, sql: 1 });
      expect(await readModels.heldPipeline({ stages: ['lead', 'mql', 'sql', 'opportunity', 'customer'], businessUnit: 'enterprise' })).toEqual({ mql: 1 });
      const funnel = await readModels.measureFunnel({ stages: ['lead', 'mql', 'sql'], asOf: isoAt(5), timeZone: 'Europe/Berlin', lookbackMonths: 3 });
      expect(funnel).toEqual({
        steps: [
          { from: 'lead', to: 'mql', entered: 4, converted: 2, meanLagDays: 0.5 },
          { from: 'mql', to: 'sql', entered: 2, converted: 1, meanLagDays: 0 },
        ],
        pipeline: { lead: 1, mql: 1 },
      });
    });

    it('given SLA facts, then the SLA report counts the MQLs and the breach, and says so when the rules have no SLA', async () => {
      const readModels = await projected();
      const report = await readModels.slaReport(rules, { fromMs: Date.parse(isoAt(0)), toMs: Date.parse(isoAt(7)), asOfMs: Date.parse(isoAt(2)), breachLimit: 10 });
      // S1's clock started at its demo request (MQL skipped) and nobody has touched it by asOf
      expect(report.breaches.leads.map((b) => [b.leadId, b.breaches])).toEqual([
        ['S1', ['first_touch']],
        ['L1', ['first_touch']],
      ]);
      expect(report.sales.total).toMatchObject({ leads: 2, contacted: 1, firstTouch: { met: 0, breached: 2, pending: 0 }, medianMinutes: 300 });
      expect(report.marketing.map((m) => [m.businessUnit, m.delivered])).toEqual([
        ['smb', 1],
        ['enterprise', 1],
        ['partners', 0],
      ]);
      await expect(readModels.slaReport({ ...rules, sla: undefined } as unknown as RuleConfig, { fromMs: 0, toMs: 1, asOfMs: 1, breachLimit: 1 })).rejects.toThrow(SlaNotConfiguredError);
    });

    it('given a projected log, then the stage feed pages through every changed subject as of the head', async () => {
      const readModels = await projected();
      const head = await readModels.head();
      const subjects: string[] = [];
      let cursor: { position: number; subject: string } | undefined;
      do {
        const page = await readModels.stageChanges({ after: 0, until: head.position, limit: 2, cursor });
        expect(page).toMatchObject({ build: head.build, position: head.position });
        subjects.push(...page.subjects.map((s) => s.leadId ?? `anon:${s.anonymousId!}`));
        cursor = page.next;
      } while (cursor !== undefined);
      expect(subjects.sort()).toEqual(['D1', 'L1', 'N1', 'S1', 'anon:v9']);
      expect((await readModels.stageChanges({ after: head.position, until: head.position, limit: 10, cursor: undefined })).subjects).toEqual([]);
    });

    it('given stage changes, then the change feed reads them in order, a batch after a sequence number', async () => {
      const readModels = await projected();
      // one flush: each lead's change says where it is now, not every step on the way
      expect(await readModels.changeHead()).toBe(4);
      const all = await readModels.readChanges(0, 1000);
      expect(all.map((c) => c.type === 'stage_changed' && [c.seq, c.leadId, c.from, c.to, c.at])).toEqual([
        [1, 'L1', null, 'mql', isoAt(1)],
        [2, 'S1', null, 'sql', isoAt(0, 30)],
        [3, 'D1', null, 'lead', isoAt(0, 60)],
        [4, 'N1', null, 'lead', isoAt(2)],
      ]);
      expect(await readModels.readChanges(2, 1)).toEqual(all.slice(2, 3));
      expect(await readModels.readChanges(4, 1000)).toEqual([]);
    });

    it('given events appended after the read models were read, then every answer holds them: moved and merged subjects, counters, feeds', async () => {
      const readModels = await projected();
      const before = await readModels.head();
      let log!: EventStore;
      // N1 requests a demo (lead -> sql); visitor v9 submits a form as X1 (a new lead that takes v9's history)
      await opened!.append(async (written) => {
        log = written;
        await appendAll(log, [eventsFor({ leadId: 'N1' }, 'N1-more')('demo_requested', isoAt(4)), eventsFor({ leadId: 'X1', anonymousId: 'v9' }, 'X1')('form_submit', isoAt(4, 30), { formId: 'f' })]);
      });
      const head = await readModels.head();
      expect(head).toMatchObject({ build: before.build, position: await log.headPosition() });
      expect(head.position).toBeGreaterThan(before.position);

      const ids = async (page: Promise<{ items: readonly { id: string }[] }>) => (await page).items.map((l) => l.id);
      expect(await ids(readModels.listLeads())).toEqual(['X1', 'N1', 'L1', 'D1', 'S1']);
      expect(await ids(readModels.listLeads({ kind: 'anonymous' }))).toEqual([]);
      expect(await readModels.lead('N1')).toMatchObject({ stage: 'sql', asOf: isoAt(4) });
      expect((await readModels.leadTransitions('X1')).map((t) => [t.from, t.to, t.at])).toEqual([
        [null, 'visitor', isoAt(3)],
        ['visitor', 'lead', isoAt(4, 30)],
      ]);
      // as of an instant, X1 is folded with the history it took from v9
      expect(await readModels.lead('X1', isoAt(5))).toMatchObject({ stage: 'lead', touchpoints: 2, firstTouchAt: isoAt(3) });

      const live = await readModels.liveConversion({ period: 'all', pairs: [{ from: 'visitor', to: 'lead' }, { from: 'lead', to: 'sql' }] });
      expect(live.position).toBe(head.position);
      expect(live.rows.map(({ from, to, entered, converted }) => [from, to, entered, converted])).toEqual([
        ['visitor', 'lead', 5, 5],
        ['lead', 'sql', 5, 2],
      ]);
      expect(await readModels.heldPipeline({ stages: ['lead', 'mql', 'sql', 'opportunity', 'customer'] })).toEqual({ lead: 1, mql: 1, sql: 2 });

      const changed = await readModels.stageChanges({ after: before.position, until: head.position, limit: 100, cursor: undefined });
      expect(changed.subjects.map((s) => s.leadId ?? `anon:${s.anonymousId!}`).sort()).toEqual(['N1', 'X1', 'anon:v9']);
      const changes = await readModels.readChanges(4, 100);
      expect(await readModels.changeHead()).toBe(changes.at(-1)?.seq);
      expect(changes.map((c) => c.type === 'stage_changed' && [c.leadId, c.from, c.to]).sort()).toEqual([
        ['N1', 'lead', 'sql'],
        ['X1', null, 'lead'],
      ]);
    });

    it('given an event the projector cannot apply, then it is listed parked with its reason, and by follower', async () => {
      const readModels = await projected();
      const parked = await readModels.parked();
      expect(parked.map(({ parkedAt: _, ...row }) => row)).toEqual([{ follower: 'projector', position: 7, itemId: 'bad-time', itemType: 'visit', reason: 'not an ISO 8601 instant: "yesterday"' }]);
      expect(await readModels.parked('projector')).toEqual(parked);
      expect(await readModels.parked('someone-else')).toEqual([]);
    });
  });
}

// what an adapter's own tests build their logs with
export { appendAll, demoRules, eventsFor, isoAt } from '../test-support.js';
