import { describe, expect, it } from 'vitest';
import { sameEventContent } from './port.js';

describe('sameEventContent (the idempotency rule: duplicate or conflict)', () => {
  const visit = (data: unknown) => ({ type: 'visit', data });

  it('when only the key order differs, at any depth, then the content is the same', () => {
    expect(sameEventContent(visit({ a: 1, b: { c: [1, { d: 2, e: 3 }] } }), visit({ b: { c: [1, { e: 3, d: 2 }] }, a: 1 }))).toBe(true);
  });

  it('when the type, a value or the order of an array differs, then it is not', () => {
    expect(sameEventContent(visit({ a: 1 }), { type: 'payment', data: { a: 1 } })).toBe(false);
    expect(sameEventContent(visit({ a: 1 }), visit({ a: 1.5 }))).toBe(false);
    expect(sameEventContent(visit([1, 2]), visit([2, 1]))).toBe(false);
    expect(sameEventContent(visit({ a: 1 }), visit({ a: 1, b: null }))).toBe(false);
  });

  it('when data differs only where JSON cannot tell (an undefined property, undefined as null), then it is the same, as stored', () => {
    expect(sameEventContent(visit({ a: 1, b: undefined }), visit({ a: 1 }))).toBe(true);
    expect(sameEventContent(visit(undefined), visit(null))).toBe(true);
  });

  it('when a "__proto__" key (as JSON.parse makes it) differs, then it is not the same', () => {
    expect(sameEventContent(visit(JSON.parse('{"__proto__": {"a": 1}}')), visit(JSON.parse('{"__proto__": {"a": 2}}')))).toBe(false);
  });
});
