import { describe, expect, it } from 'vitest';
import { CaptureSchema } from '@sluice/schemas';
import { attribute } from './channels.js';

const rules = CaptureSchema.parse({}).channels;

describe('attribute: UTM parameters and the referrer onto source, channel and campaign by the default rules', () => {
  it('utm_medium=cpc is paid search, with its source and campaign', () => {
    expect(attribute({ utmSource: 'google', utmMedium: 'CPC', utmCampaign: 'spring-crm', referrer: 'https://www.google.com/' }, rules)).toEqual({ source: 'google', channel: 'paid_search', campaign: 'spring-crm' });
  });
  it('a search engine referrer without UTM is organic search, the engine as source', () => {
    expect(attribute({ referrer: 'https://www.bing.com/search?q=crm' }, rules)).toEqual({ source: 'www.bing.com', channel: 'organic_search' });
  });
  it('nothing is direct; the own site as referrer is nothing', () => {
    expect(attribute({}, rules)).toEqual({ channel: 'direct' });
    expect(attribute({ referrer: 'https://shop.example/a', ownHost: 'shop.example' }, rules)).toEqual({ channel: 'direct' });
  });
  it('another site is a referral; unknown UTM is other; a social network referrer is organic social', () => {
    expect(attribute({ referrer: 'https://blog.example.org/post' }, rules)).toEqual({ source: 'blog.example.org', channel: 'referral' });
    expect(attribute({ utmSource: 'partner', utmMedium: 'affiliate' }, rules)).toEqual({ source: 'partner', channel: 'other' });
    expect(attribute({ referrer: 'https://www.linkedin.com/feed' }, rules)).toEqual({ source: 'www.linkedin.com', channel: 'organic_social' });
  });
  it('configured rules come first, every condition of a rule must hold', () => {
    const custom = CaptureSchema.parse({ channels: [{ channel: 'partner', medium: ['affiliate'], source: ['acme'] }, ...rules] }).channels;
    expect(attribute({ utmSource: 'ACME', utmMedium: 'affiliate' }, custom).channel).toBe('partner');
    expect(attribute({ utmSource: 'other', utmMedium: 'affiliate' }, custom).channel).toBe('other');
  });
});
