import type { DateTime } from 'luxon';
import type { Period } from './calendar.js';
import type { PlanCountingUnit } from './plan-input.js';
import type { DealSizeEstimate, InfeasibleReason, RateEstimate } from './plan-output.js';

/**
 * Why a target cannot be planned, in words, before any division happens: a
 * zero or missing rate or deal size would otherwise surface as Infinity or
 * NaN volumes. Every reason is reported, not just the first.
 */
export function infeasibility(
  period: Period,
  asOf: DateTime,
  rates: readonly Omit<RateEstimate, 'interval'>[],
  dealSize: DealSizeEstimate,
  unit: PlanCountingUnit,
): InfeasibleReason[] {
  const reasons: InfeasibleReason[] = [];
  if (period.end <= asOf) {
    reasons.push({
      code: 'period-in-past',
      message: `infeasible because ${period.label} ended (${period.end.toISO()}) before asOf (${asOf.toISO()})`,
    });
  }
  for (const estimate of rates) {
    const step = `${estimate.from} -> ${estimate.to}`;
    if (estimate.source === 'missing') {
      reasons.push({ code: 'missing-rate', message: `infeasible because no conversion rate was given or measured for ${step}` });
    } else if (estimate.rate === null) {
      reasons.push({
        code: 'no-observations',
        message: `infeasible because no ${unit === 'accounts' ? 'account' : 'lead'} entered '${estimate.from}' in the measured history, so ${step} has no rate; give one`,
      });
    } else if (estimate.rate === 0) {
      const basis =
        estimate.source === 'measured' && estimate.observations !== null
          ? `none of the ${estimate.observations.entered} measured ${unit} converted`
          : 'the given rate is 0';
      reasons.push({ code: 'zero-rate', message: `infeasible because ${step} converts nothing (${basis}): no volume can reach the target` });
    }
  }
  if (dealSize.value === null) {
    reasons.push({
      code: 'no-deal-size-observations',
      message: 'infeasible because no payments were measured, so there is no average deal size; give one',
    });
  } else if (dealSize.value === 0) {
    reasons.push({ code: 'zero-deal-size', message: 'infeasible because the average deal size is 0: no number of deals reaches the target' });
  }
  return reasons;
}

/** Volumes this large are not a plan (and past 2^53 they are no longer exact integers). */
export function overflowReason(volumes: readonly number[], stages: readonly string[], unit: PlanCountingUnit): InfeasibleReason | null {
  const at = volumes.findIndex((volume) => !Number.isSafeInteger(volume));
  if (at === -1) return null;
  return {
    code: 'volume-overflow',
    message: `infeasible because '${stages[at] ?? at}' would need more than ${Number.MAX_SAFE_INTEGER} ${unit} at these rates`,
  };
}
