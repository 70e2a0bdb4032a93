import { DateTime } from 'luxon';
import { type EventOf, parseEvent } from '@sluice/schemas';
import { CHANNELS, campaignName } from './catalog.js';
import { Prng, hash32 } from './prng.js';
import { endInstantOf } from './time.js';

/**
 * What the demo vendor paid for its traffic: one `spend` row per paid
 * channel, source, campaign and calendar month of the window, as an ad
 * platform's monthly export would list it. Organic search, outbound and
 * customers' referrals cost nothing here. Search and social are billed in USD (the networks'
 * currency), events and partners in EUR, so a cost report over the demo
 * needs a rate table. Amounts scale with the demo's size (`scale` 1 is the
 * default 200,000-event demo) and vary by the seed.
 */

export interface DemoSpendOptions {
  seed: number;
  start: string;
  months: number;
  timeZone: string;
  /** budget multiplier: 1 for the default demo size */
  scale: number;
  /** the instant history ends (as for the journeys): the month it falls in is billed to it, pro rata, and later months not at all */
  end?: string | undefined;
}

/** Median monthly budget of one campaign of a source, by channel. */
const MONTHLY_BUDGET: Partial<Record<string, { amount: number; currency: string }>> = {
  paid_search: { amount: 2400, currency: 'USD' },
  social: { amount: 900, currency: 'USD' },
  events: { amount: 1800, currency: 'EUR' },
  partner: { amount: 600, currency: 'EUR' },
  // review sites
  referral: { amount: 300, currency: 'EUR' },
};

export function* generateDemoSpend(options: DemoSpendOptions): Generator<EventOf<'spend'>, void, undefined> {
  if (!(options.scale > 0)) throw new RangeError(`scale must be positive, got ${options.scale}`);
  // its own stream of numbers: the journeys of the same seed stay as they are
  const rng = new Prng(hash32(options.seed, 0x5e9d));
  const first = DateTime.fromISO(options.start, { zone: options.timeZone }).startOf('month');
  const endMs = endInstantOf(options.end) ?? Infinity;
  let n = 0;
  for (let m = 0; m < options.months; m++) {
    const from = first.plus({ months: m });
    if (from.toMillis() >= endMs) break;
    const wholeMonth = from.plus({ months: 1 });
    const to = wholeMonth.toMillis() <= endMs ? wholeMonth : DateTime.fromMillis(endMs, { zone: options.timeZone });
    const share = (to.toMillis() - from.toMillis()) / (wholeMonth.toMillis() - from.toMillis());
    for (const spec of CHANNELS) {
      const budget = MONTHLY_BUDGET[spec.channel];
      if (budget === undefined) continue;
      for (const source of spec.sources.values) {
        for (const theme of spec.campaignThemes) {
          n += 1;
          const parsed = parseEvent({
            id: `demo-${options.seed}-spend-${n}`,
            type: 'spend',
            occurredAt: to.toISO({ suppressMilliseconds: true }),
            source,
            channel: spec.channel,
            campaign: campaignName(theme, from.year, from.month),
            properties: {
              amount: Math.round(rng.logNormal(budget.amount * options.scale, 0.3) * share * 100) / 100,
              currency: budget.currency,
              periodStart: from.toISO({ suppressMilliseconds: true }),
              periodEnd: to.toISO({ suppressMilliseconds: true }),
            },
          });
          if (!parsed.ok) throw new Error(`demo spend row is invalid: ${JSON.stringify(parsed.issues)}`);
          yield parsed.event as EventOf<'spend'>;
        }
      }
    }
  }
}
