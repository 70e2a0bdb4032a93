import { IANAZone, Zone } from 'luxon';
import type { ZoneOffsetFormat, ZoneOffsetOptions } from 'luxon';

const HOUR_MS = 3_600_000;

/**
 * An IANA zone whose offsets are remembered per UTC hour: luxon asks the
 * zone's offset through Intl two or three times for every local time it reads
 * (about 10 µs each), and an import reads millions. An hour whose start and
 * end have the same offset has it throughout (a zone changes its offset at
 * most once an hour); an hour holding a transition is asked each time. The
 * calendar work stays luxon's.
 */
export class RememberedOffsetZone extends Zone {
  private readonly zone: IANAZone;
  private readonly offsets = new Map<number, number>();

  constructor(name: string) {
    super();
    this.zone = IANAZone.create(name);
  }

  override get type(): string {
    return this.zone.type;
  }
  override get name(): string {
    return this.zone.name;
  }
  override get isUniversal(): boolean {
    return this.zone.isUniversal;
  }
  override get isValid(): boolean {
    return this.zone.isValid;
  }
  override offsetName(ts: number, options: ZoneOffsetOptions): string | null {
    return this.zone.offsetName(ts, options);
  }
  override formatOffset(ts: number, format: ZoneOffsetFormat): string {
    return this.zone.formatOffset(ts, format);
  }
  override equals(other: Zone): boolean {
    return other.type === this.type && other.name === this.name;
  }
  override offset(ts: number): number {
    const hour = Math.floor(ts / HOUR_MS);
    const known = this.offsets.get(hour);
    if (known !== undefined) return known;
    const atStart = this.zone.offset(hour * HOUR_MS);
    if (atStart !== this.zone.offset((hour + 1) * HOUR_MS - 1)) return this.zone.offset(ts);
    // bounded: a file spanning 50 years holds under 450,000 hours
    if (this.offsets.size > 500_000) this.offsets.clear();
    this.offsets.set(hour, atStart);
    return atStart;
  }
}
