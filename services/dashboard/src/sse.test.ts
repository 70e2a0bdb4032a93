import { describe, expect, it } from 'vitest';
import { parseBlock } from './sse.js';

describe('reading the change stream', () => {
  it('given a message block, then its id, event and data come out', () => {
    expect(parseBlock('id: 7\nevent: lead_hot\ndata: {"leadId":"l1"}')).toEqual({ id: '7', event: 'lead_hot', data: '{"leadId":"l1"}' });
  });

  it('given data over several lines, then they are joined by newlines, and a space after the colon is dropped once', () => {
    expect(parseBlock('data:  a\ndata: b')).toEqual({ id: '', event: 'message', data: ' a\nb' });
  });

  it('given a keep-alive comment, then there is no message', () => {
    expect(parseBlock(': keep-alive')).toBeUndefined();
  });
});
