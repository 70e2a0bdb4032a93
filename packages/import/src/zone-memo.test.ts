import { DateTime, IANAZone } from 'luxon';
import { describe, expect, it } from 'vitest';
import { RememberedOffsetZone } from './zone-memo.js';

describe('RememberedOffsetZone', () => {
  it('given zones with DST (whole-hour and half-hour shifts) and odd offsets, then every offset and every local time read agrees with luxon over two years, transitions included', () => {
    for (const name of ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'America/St_Johns']) {
      const remembered = new RememberedOffsetZone(name);
      const zone = IANAZone.create(name);
      // every 7 minutes 30 seconds: hits each transition's hour and the minutes around it
      for (let ts = Date.UTC(2025, 0, 1); ts < Date.UTC(2027, 0, 1); ts += 450_000) {
        expect(remembered.offset(ts)).toBe(zone.offset(ts));
      }
      for (let day = 0; day < 730; day += 1) {
        for (const local of ['00:30', '02:00', '02:30', '03:00']) {
          const text = `${DateTime.fromMillis(Date.UTC(2025, 0, 1) + day * 86_400_000, { zone: 'UTC' }).toISODate()}T${local}`;
          expect(DateTime.fromISO(text, { zone: remembered }).toMillis()).toBe(DateTime.fromISO(text, { zone: name }).toMillis());
        }
      }
    }
  });
});
