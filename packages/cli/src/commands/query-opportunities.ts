import { QUERIES } from '@sluice/analytics';
import { usageError } from '../output.js';
import { commonBody, declaredCommand, defined, readQueryFile } from './query-flags.js';
import type { QueryRangeFlags } from './query-flags.js';

/**
 * `sluice query win-rates | sales-cycle | velocity | deal-sizes`: the
 * opportunity analytics (issue 17). Bodies are the API's (POST /v1/win-rates,
 * /v1/sales-cycle, /v1/velocity, /v1/deal-sizes).
 */

export interface OpportunityFlags extends QueryRangeFlags {
  /** stage, owner, segment or source (win-rates and sales-cycle) */
  by?: string | undefined;
}

const bodyOf =
  (command: string, grouped: boolean) =>
  (flags: OpportunityFlags, timeZone: string): unknown => {
    if (flags.file !== undefined) return readQueryFile(flags.file, `${command} query`);
    if (!grouped && flags.by !== undefined) throw usageError(`sluice query ${command} takes no --by: it answers per currency`);
    return { ...commonBody(command, flags, timeZone), ...defined({ groupBy: flags.by }) };
  };

export const queryWinRates = declaredCommand(QUERIES.winRates, bodyOf('win-rates', true));
export const querySalesCycle = declaredCommand(QUERIES.salesCycle, bodyOf('sales-cycle', true));
export const queryVelocity = declaredCommand(QUERIES.velocity, bodyOf('velocity', false));
export const queryDealSizes = declaredCommand(QUERIES.dealSizes, bodyOf('deal-sizes', false));
