import { closeRates } from './close-rates/index.js';
import { cohorts } from './cohorts/index.js';
import { conversion } from './conversion/index.js';
import { costReport } from './cost-report/index.js';
import { dealSizes } from './deal-sizes/index.js';
import { drivers } from './drivers/index.js';
import { funnel } from './funnel/index.js';
import { funnelLeads } from './funnel-leads/index.js';
import { salesCycle } from './sales-cycle/index.js';
import { slaReport } from './sla-report/index.js';
import { timeToConvert } from './time-to-convert/index.js';
import { velocity } from './velocity/index.js';
import { winRates } from './win-rates/index.js';

/** Every query ClickHouse answers, by name: what the API routes, the CLI commands and the dashboard's client are made from. */
export const QUERIES = { funnel, funnelLeads, conversion, closeRates, drivers, timeToConvert, cohorts, costReport, winRates, salesCycle, velocity, dealSizes } as const;
export type Queries = typeof QUERIES;

/** Every query the read models answer, by name: the API routes and the CLI commands are made from these too. */
export const READ_MODEL_QUERIES = { slaReport } as const;
export type ReadModelQueries = typeof READ_MODEL_QUERIES;
