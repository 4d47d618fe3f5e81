import { describe, expect, it } from 'vitest';
import { SegstreamError } from '../../../src/core/index.js';
import { clientMessageSchema, parseControlMessage, parsePromptMessage, subscribeMessageSchema } from '../../../src/protocol/index.js';

describe('clientMessageSchema', () => {
  it.each([
    [{ type: 'ping' }],
    [{ type: 'ping', id: 'abc' }],
    [{ type: 'ping', id: 3 }],
    [{ type: 'subscribe' }],
    [{ type: 'subscribe', cameras: '*' }],
    [{ type: 'subscribe', cameras: ['gate', 'yard'] }],
  ])('accepts %j', (m) => {
    expect(clientMessageSchema.safeParse(m).success).toBe(true);
  });

  it.each([
    [{ type: 'ping', extra: 1 }],
    [{ type: 'subscribe', cameras: ['gate'], camera: 'typo' }],
    [{ type: 'publish' }],
    [{}],
    [{ type: 'subscribe', cameras: [''] }],
    [{ type: 'subscribe', cameras: 'gate' }],
    [{ type: 'ping', id: 'x'.repeat(65) }],
  ])('rejects %j', (m) => {
    expect(clientMessageSchema.safeParse(m).success).toBe(false);
  });
});

describe('subscribe masks', () => {
  it.each(['rle', 'polygons', 'none'])('accepts masks %s', (masks) => {
    expect(subscribeMessageSchema.parse({ type: 'subscribe', masks })).toEqual({ type: 'subscribe', masks });
  });

  it('rejects an unknown mask format with E_MSG_INVALID naming the field', () => {
    let err: unknown;
    try {
      parseControlMessage({ type: 'subscribe', masks: 'png' }, 'subscribe');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SegstreamError);
    expect((err as SegstreamError).code).toBe('E_MSG_INVALID');
    expect((err as SegstreamError).message).toMatch(/^invalid 'subscribe' message: masks: /);
  });
});

describe('clientMessageSchema covers every client message', () => {
  it.each([
    [{ type: 'prompt', camera: 'gate', box: [1, 2, 3, 4], id: 'q' }],
    [{ type: 'prompt', camera: 'gate', points: [[1, 2, 1]] }],
    [{ type: 'prompt', camera: 'gate', text: 'car' }],
    [{ type: 'prompt.clear', camera: 'gate' }],
    [{ type: 'prompt.clear', camera: 'gate', target: 2 }],
  ])('accepts %j', (m) => {
    expect(clientMessageSchema.safeParse(m).success).toBe(true);
  });

  it('rejects a prompt with two of points, box, text (the refinement runs inside the union too)', () => {
    expect(clientMessageSchema.safeParse({ type: 'prompt', camera: 'gate', box: [1, 2, 3, 4], text: 'car' }).success).toBe(false);
  });

  it('parsePromptMessage keeps its code and message prefix', () => {
    expect(() => parsePromptMessage({ type: 'prompt', camera: 'gate', points: [] })).toThrow(/^invalid prompt: points: /);
  });
});
