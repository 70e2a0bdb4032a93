import { closeRates } from './close-rates/index.js';
import { cohorts } from './cohorts/index.js';
import { conversion } from './conversion/index.js';
import { costReport } from './cost-report/index.js';
import { drivers } from './drivers/index.js';
import { funnel } from './funnel/index.js';
import { funnelLeads } from './funnel-leads/index.js';
import { timeToConvert } from './time-to-convert/index.js';

/** Every query ClickHouse answers, by name: what the API routes, the CLI commands and the dashboard's client are made from. */
export const QUERIES = { funnel, funnelLeads, conversion, closeRates, drivers, timeToConvert, cohorts, costReport } as const;
export type Queries = typeof QUERIES;
