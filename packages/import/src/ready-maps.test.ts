import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteEventStore } from '@sluice/event-store';
import type { EventStore } from '@sluice/event-store';
import { importWithMap } from './import.js';
import { loadImportMap, readyMapNames } from './map.js';

/**
 * Each ready map on a small file written in its product's export shape (its
 * own column names, extra columns the map does not read, its date format),
 * the stored events compared with hand-written ones.
 */

let dir: string;
let store: EventStore;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-ready-maps-'));
  store = await openSqliteEventStore({ path: join(dir, 'events.sqlite') });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function importWith(mapName: string, csv: string) {
  const path = join(dir, `${mapName}.csv`);
  writeFileSync(path, csv);
  const summary = await importWithMap(store, { name: path, open: () => createReadStream(path) }, {
    map: loadImportMap(mapName),
    mapName,
    defaultTimeZone: 'America/New_York',
    dryRun: false,
    skipInvalid: false,
    batchSize: 1000,
  });
  const events = (await store.readAll()).filter((e) => e.type !== 'identity_linked').map((e) => e.data);
  return { summary, events };
}

describe('ready maps', () => {
  it('lists the four shipped maps by name', () => {
    expect(readyMapNames()).toEqual(['hubspot-contacts', 'hubspot-deals', 'salesforce-leads', 'salesforce-opportunities']);
  });

  it('hubspot-contacts: an identify per contact at its Create Date, sales_accepted where it became an SQL', async () => {
    const csv = [
      'Record ID,First Name,Last Name,Email,Company Name,Industry,Create Date,Lifecycle Stage,Original Source,Original Source Drill-Down 1,Original Source Drill-Down 2,Became a Sales Qualified Lead Date',
      '101,Ann,Lee,ann@acme.example,Acme,Manufacturing,2026-01-05 09:12,Sales Qualified Lead,Paid Search,google,spring-brand,2026-01-20 15:00',
      '102,Bo,Kim,bo@globex.example,Globex,,2026-02-01 00:00,Lead,Organic Search,,,',
    ].join('\r\n');
    const { summary, events } = await importWith('hubspot-contacts', csv);
    expect(summary).toMatchObject({ rows: 2, events: 3, written: 3, rejectedRows: 0, timeZone: 'America/New_York', dateOnly: [] });
    expect(events).toEqual([
      {
        id: 'hubspot-contact-identify-101', type: 'identify', occurredAt: '2026-01-05T09:12:00-05:00', leadId: 'hubspot-contact-101',
        source: 'Paid Search', channel: 'Paid Search', campaign: 'spring-brand',
        properties: { email: 'ann@acme.example', company: 'Acme', industry: 'Manufacturing', leadSource: 'Paid Search', x: { lifecycleStage: 'Sales Qualified Lead', originalSourceDrillDown1: 'google' } },
      },
      { id: 'hubspot-contact-sql-101', type: 'sales_accepted', occurredAt: '2026-01-20T15:00:00-05:00', leadId: 'hubspot-contact-101', properties: {} },
      {
        id: 'hubspot-contact-identify-102', type: 'identify', occurredAt: '2026-02-01T00:00:00-05:00', leadId: 'hubspot-contact-102',
        source: 'Organic Search', channel: 'Organic Search',
        properties: { email: 'bo@globex.example', company: 'Globex', leadSource: 'Organic Search', x: { lifecycleStage: 'Lead' } },
      },
    ]);
  });

  it('hubspot-deals: sales_accepted at creation, a payment for Closed Won, deal_lost for Closed Lost, on the first associated contact', async () => {
    const csv = [
      'Record ID,Deal Name,Pipeline,Deal Stage,Amount,Create Date,Close Date,Deal owner,Associated Contact IDs',
      '9001,Acme renewal,Sales Pipeline,Closed Won,"12,500.00",2026-03-02 10:00,2026-04-15 16:30,Sam,101;105',
      '9002,Globex pilot,Sales Pipeline,Closed Lost,800,2026-03-10 11:00,2026-03-31 12:00,Sam,102',
      '9003,Initech,Sales Pipeline,Appointment Scheduled,,2026-03-20 08:00,,Sam,103',
    ].join('\n');
    const { summary, events } = await importWith('hubspot-deals', csv);
    expect(summary).toMatchObject({ rows: 3, events: 5, written: 5, rejectedRows: 0 });
    expect(events).toEqual([
      { id: 'hubspot-deal-created-9001', type: 'sales_accepted', occurredAt: '2026-03-02T10:00:00-05:00', leadId: 'hubspot-contact-101', properties: { x: { dealName: 'Acme renewal', pipeline: 'Sales Pipeline' } } },
      { id: 'hubspot-deal-won-9001', type: 'payment', occurredAt: '2026-04-15T16:30:00-04:00', leadId: 'hubspot-contact-101', properties: { amount: 12500, currency: 'USD', x: { dealName: 'Acme renewal' } } },
      { id: 'hubspot-deal-created-9002', type: 'sales_accepted', occurredAt: '2026-03-10T11:00:00-04:00', leadId: 'hubspot-contact-102', properties: { x: { dealName: 'Globex pilot', pipeline: 'Sales Pipeline' } } },
      { id: 'hubspot-deal-lost-9002', type: 'deal_lost', occurredAt: '2026-03-31T12:00:00-04:00', leadId: 'hubspot-contact-102', properties: { reason: 'other', x: { dealName: 'Globex pilot' } } },
      { id: 'hubspot-deal-created-9003', type: 'sales_accepted', occurredAt: '2026-03-20T08:00:00-04:00', leadId: 'hubspot-contact-103', properties: { x: { dealName: 'Initech', pipeline: 'Sales Pipeline' } } },
    ]);
  });

  it('salesforce-leads: an identify at the Created Date (a US date: local midnight), sales_accepted at the Converted Date', async () => {
    const csv = [
      'Lead Owner,First Name,Last Name,Title,Company / Account,Lead ID,Lead Source,Lead Status,Industry,Email,Created Date,Converted Date',
      'Sam Rep,Ann,Lee,CTO,Acme,00Q5g00000AbCdE,Web,Closed - Converted,Technology,ann@acme.example,1/15/2026,2/3/2026',
      'Sam Rep,Bo,Kim,-,Globex,00Q5g00000FgHiJ,Trade Show,Working - Contacted,-,bo@globex.example,11/30/2025,',
    ].join('\r\n');
    const { summary, events } = await importWith('salesforce-leads', csv);
    expect(summary).toMatchObject({ rows: 2, events: 3, written: 3, dateOnly: [{ column: 'Created Date', timeZone: 'America/New_York', count: 2 }, { column: 'Converted Date', timeZone: 'America/New_York', count: 1 }] });
    expect(events).toEqual([
      {
        id: 'salesforce-lead-identify-00Q5g00000AbCdE', type: 'identify', occurredAt: '2026-01-15T00:00:00-05:00', leadId: 'salesforce-lead-00Q5g00000AbCdE', source: 'Web',
        properties: { email: 'ann@acme.example', title: 'CTO', company: 'Acme', industry: 'Technology', leadSource: 'Web', x: { leadStatus: 'Closed - Converted' } },
      },
      { id: 'salesforce-lead-converted-00Q5g00000AbCdE', type: 'sales_accepted', occurredAt: '2026-02-03T00:00:00-05:00', leadId: 'salesforce-lead-00Q5g00000AbCdE', properties: {} },
      {
        id: 'salesforce-lead-identify-00Q5g00000FgHiJ', type: 'identify', occurredAt: '2025-11-30T00:00:00-05:00', leadId: 'salesforce-lead-00Q5g00000FgHiJ', source: 'Trade Show',
        properties: { email: 'bo@globex.example', company: 'Globex', leadSource: 'Trade Show', x: { leadStatus: 'Working - Contacted' } },
      },
    ]);
  });

  it('salesforce-opportunities: sales_accepted at creation, a payment in the opportunity currency for Closed Won, deal_lost for Closed Lost, keyed by account', async () => {
    const csv = [
      'Opportunity Owner,Account Name,Account ID,Opportunity Name,Opportunity ID,Type,Lead Source,Stage,Amount,Opportunity Currency,Probability (%),Close Date,Created Date',
      'Sam Rep,Acme,0015g00000XyZaB,Acme - Platform,0065g00000Op001,New Business,Web,Closed Won,"48,000.00",EUR,100,6/30/2026,5/2/2026',
      'Sam Rep,Globex,0015g00000XyZcD,Globex - Pilot,0065g00000Op002,New Business,Partner Referral,Closed Lost,"5,000.00",USD,0,6/15/2026,5/20/2026',
      // the footer Salesforce writes under a report's rows
      '',
      '""',
      '"Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."',
      '"Confidential Information - Do Not Distribute"',
      '"Generated By:  Sam Rep  7/1/2026, 9:00 AM"',
      '"Acme Corp"',
    ].join('\r\n');
    const { summary, events } = await importWith('salesforce-opportunities', csv);
    expect(summary).toMatchObject({ rows: 7, rowsWithoutEvents: 5, rejectedRows: 0, events: 4, written: 4 });
    const acme = { leadId: 'salesforce-account-0015g00000XyZaB', accountId: 'salesforce-account-0015g00000XyZaB' };
    const globex = { leadId: 'salesforce-account-0015g00000XyZcD', accountId: 'salesforce-account-0015g00000XyZcD' };
    expect(events).toEqual([
      { id: 'salesforce-opportunity-created-0065g00000Op001', type: 'sales_accepted', occurredAt: '2026-05-02T00:00:00-04:00', ...acme, source: 'Web', properties: { x: { opportunityName: 'Acme - Platform', type: 'New Business' } } },
      { id: 'salesforce-opportunity-won-0065g00000Op001', type: 'payment', occurredAt: '2026-06-30T00:00:00-04:00', ...acme, properties: { amount: 48000, currency: 'EUR', x: { opportunityName: 'Acme - Platform' } } },
      { id: 'salesforce-opportunity-created-0065g00000Op002', type: 'sales_accepted', occurredAt: '2026-05-20T00:00:00-04:00', ...globex, source: 'Partner Referral', properties: { x: { opportunityName: 'Globex - Pilot', type: 'New Business' } } },
      { id: 'salesforce-opportunity-lost-0065g00000Op002', type: 'deal_lost', occurredAt: '2026-06-15T00:00:00-04:00', ...globex, properties: { reason: 'other', x: { opportunityName: 'Globex - Pilot' } } },
    ]);
  });
});
