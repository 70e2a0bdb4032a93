/**
 * The deterministic reverse chain: revenue -> deals -> each earlier stage,
 * dividing by the conversion rate of each step. Volumes are whole leads,
 * rounded up at every stage: 41.7 deals means 42 deals to close, and those 42
 * need ceil(42 / rate) SQLs, the way a planner does it by hand.
 */

/**
 * Float noise must not cost a lead: 21 / 0.35 is 60.00000000000001 in binary
 * floating point and still means 60 SQLs. Anything within a relative 1e-9 of
 * a whole number counts as that number.
 */
const RELATIVE_TOLERANCE = 1e-9;

export function wholeUnitsAtLeast(amount: number): number {
  const nearest = Math.round(amount);
  if (Math.abs(amount - nearest) <= RELATIVE_TOLERANCE * Math.max(1, Math.abs(amount))) return nearest;
  return Math.ceil(amount);
}

/** Deals needed for a revenue target at an average deal size (> 0). */
export function dealsFor(revenue: number, dealSize: number): number {
  return wholeUnitsAtLeast(revenue / dealSize);
}

/**
 * Volumes entering each stage, first stage first, deals last.
 * `rates[k]` converts stage k into stage k + 1, so there is one more volume
 * than rates. Rates must be > 0; callers check feasibility first.
 */
export function requiredVolumes(deals: number, rates: readonly number[]): number[] {
  const volumes = new Array<number>(rates.length + 1);
  volumes[rates.length] = deals;
  let downstream = deals;
  for (let k = rates.length - 1; k >= 0; k--) {
    downstream = wholeUnitsAtLeast(downstream / (rates[k] as number));
    volumes[k] = downstream;
  }
  return volumes;
}

/** Chance that one lead entering stage k becomes a deal: the product of the rates after it. */
export function chanceToClose(rates: readonly number[], fromStage: number): number {
  let chance = 1;
  for (let k = fromStage; k < rates.length; k++) chance *= rates[k] as number;
  return chance;
}
