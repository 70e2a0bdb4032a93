import { describe, expect, it } from 'vitest';
import { CaptureSchema, SluiceConfigSchema } from '../index.js';

describe('capture settings', () => {
  it('default to the built-in channel rules, no site keys, unmapped track names rejected, bots dropped, no client address', () => {
    const capture = SluiceConfigSchema.parse({ version: 'v1' }).capture;
    expect(capture.segment).toMatchObject({ events: {}, unmapped: 'reject' });
    expect(capture.site).toMatchObject({ keys: [], bots: 'drop', storeClientAddress: false });
    expect(capture.channels[0]).toEqual({ channel: 'paid_search', medium: ['cpc', 'ppc', 'paidsearch', 'paid_search', 'sem'] });
  });
  it('name what is wrong: an unknown Sluice type in the event map, an origin with a path, a repeated site key', () => {
    const result = CaptureSchema.safeParse({
      segment: { events: { 'Demo Requested': 'demo_request' } },
      site: { keys: [{ name: 'www', key: 'site_key_1', origins: ['https://www.example.com/path'] }, { name: 'shop', key: 'site_key_1', origins: ['https://shop.example.com'] }] },
    });
    expect(result.success).toBe(false);
    const issues = result.error!.issues.map((i) => `${i.path.join('.')}: ${i.message.slice(0, 40)}`);
    expect(issues).toEqual([
      'segment.events.Demo Requested: must be a Sluice event type: ad_click, c',
      'site.keys.0.origins.0: must be an origin: scheme://host[:port],',
      'site.keys.1.key: same key as an earlier site key',
    ]);
  });
});
