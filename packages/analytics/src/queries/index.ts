import { closeRates } from './close-rates/index.js';
import { cohorts } from './cohorts/index.js';
import { conversion } from './conversion/index.js';
import { drivers } from './drivers/index.js';
import { timeToConvert } from './time-to-convert/index.js';

/** Every stage-level query, by name: what the API routes, the CLI commands and the dashboard's client are made from. */
export const STAGE_QUERIES = { conversion, closeRates, drivers, timeToConvert, cohorts } as const;
export type StageQueries = typeof STAGE_QUERIES;
