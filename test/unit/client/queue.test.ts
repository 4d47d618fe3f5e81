import { describe, expect, it } from 'vitest';
import { MessageQueue } from '../../../src/client/queue.js';

describe('MessageQueue (the client async iterators)', () => {
  it('hands messages to a waiting reader in order, then buffers them', async () => {
    const q = new MessageQueue<number>(10);
    const first = q.next();
    q.push(1);
    q.push(2);
    expect(await first).toEqual({ value: 1, done: false });
    expect(await q.next()).toEqual({ value: 2, done: false });
  });

  it('keeps the newest `capacity` messages for a reader that is behind and counts the dropped ones', async () => {
    const q = new MessageQueue<number>(3);
    for (let i = 1; i <= 10; i++) q.push(i);
    expect(q.dropped).toBe(7);
    q.end();
    const got: number[] = [];
    for await (const v of q) got.push(v);
    expect(got).toEqual([8, 9, 10]);
  });

  it('end() lets waiting readers finish; break out of for-await calls onReturn and drops the rest', async () => {
    let returned = 0;
    const q = new MessageQueue<number>(5, () => returned++);
    const waiting = q.next();
    q.end();
    expect(await waiting).toEqual({ value: undefined, done: true });
    const q2 = new MessageQueue<number>(5, () => returned++);
    q2.push(1);
    q2.push(2);
    for await (const v of q2) {
      expect(v).toBe(1);
      break;
    }
    expect(returned).toBe(1);
    q2.push(3);
    expect(await q2.next()).toEqual({ value: undefined, done: true });
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new MessageQueue(0)).toThrow(TypeError);
  });
});
