import { get } from './api.js';

/** What the dashboard needs of the rules the server runs under: the stage model, the business time zone, the version. */
export interface LiveRules {
  stages: string[];
  timeZone: string;
  configVersion: string;
}

/** The live conversion read model names the rules it is built under; with period "all" it is one small answer. */
export async function loadLiveRules(signal?: AbortSignal): Promise<LiveRules> {
  const live = await get<LiveRules>('/v1/conversion/live?period=all', signal);
  return { stages: live.stages, timeZone: live.timeZone, configVersion: live.configVersion };
}
