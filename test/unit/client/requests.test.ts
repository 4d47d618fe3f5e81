import { afterEach, describe, expect, it, vi } from 'vitest';
import { PendingRequests } from '../../../src/client/requests.js';
import { SegstreamClientError, type PromptOkMessage, type SubscribedMessage } from '../../../src/client/index.js';

const ok = (id: number, target: number): PromptOkMessage => ({ type: 'prompt.ok', camera: 'c', target, tracks: [1], method: 'box', seq: 1, id });

describe('PendingRequests', () => {
  afterEach(() => void vi.useRealTimers());

  it('pairs replies with requests by id, whatever order they come in', async () => {
    const p = new PendingRequests();
    const a = p.newId();
    const b = p.newId();
    const ra = p.withId<PromptOkMessage>(a, 'prompt.ok', 'a', 1000);
    const rb = p.withId<PromptOkMessage>(b, 'prompt.ok', 'b', 1000);
    expect(p.settle(ok(b, 20))).toBe(true);
    expect(p.settle(ok(a, 10))).toBe(true);
    expect((await ra).target).toBe(10);
    expect((await rb).target).toBe(20);
    expect(p.size).toBe(0);
  });

  it('rejects with the server code of an error reply that echoes the id; ignores replies of another type or unknown id', async () => {
    const p = new PendingRequests();
    const id = p.newId();
    const r = p.withId<PromptOkMessage>(id, 'prompt.ok', 'prompt', 1000);
    expect(p.settle({ type: 'pong', id, time: 1 })).toBe(false);
    expect(p.settle({ type: 'error', code: 'E_INTERNAL', message: 'm', id: 999 })).toBe(false);
    expect(p.settle({ type: 'error', code: 'E_PROMPT_NO_MATCH', message: 'nothing there', actual: [1, 2], id })).toBe(true);
    const err = await r.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SegstreamClientError);
    expect(err).toMatchObject({ code: 'E_PROMPT_NO_MATCH', message: 'nothing there', actual: [1, 2] });
  });

  it('settles id-less replies (subscribe) in order; an error without id goes to the oldest', async () => {
    const p = new PendingRequests();
    const first = p.inOrder<SubscribedMessage>('subscribed', 'subscribe', 1000);
    const second = p.inOrder<SubscribedMessage>('subscribed', 'subscribe', 1000);
    expect(p.settle({ type: 'error', code: 'E_UNKNOWN_CAMERA', message: 'no' })).toBe(true);
    expect(p.settle({ type: 'subscribed', cameras: '*', masks: 'rle' })).toBe(true);
    await expect(first).rejects.toMatchObject({ code: 'E_UNKNOWN_CAMERA' });
    await expect(second).resolves.toEqual({ type: 'subscribed', cameras: '*', masks: 'rle' });
    expect(p.settle({ type: 'subscribed', cameras: '*', masks: 'rle' })).toBe(false);
  });

  it('an error without id is not given to a subscribe while a request with an id waits (it may be that request\'s, unreadable)', async () => {
    const p = new PendingRequests();
    const sub = p.inOrder<SubscribedMessage>('subscribed', 'subscribe', 1000);
    const id = p.newId();
    const prompt = p.withId<PromptOkMessage>(id, 'prompt.ok', 'prompt', 1000);
    expect(p.settle({ type: 'error', code: 'E_MSG_TOO_LARGE', message: 'too large' })).toBe(false);
    expect(p.settle({ type: 'subscribed', cameras: '*', masks: 'rle' })).toBe(true);
    await expect(sub).resolves.toEqual({ type: 'subscribed', cameras: '*', masks: 'rle' });
    expect(p.settle(ok(id, 3))).toBe(true);
    expect((await prompt).target).toBe(3);
  });

  it('times out with E_TIMEOUT and forgets the request (a late reply settles nothing)', async () => {
    vi.useFakeTimers();
    const p = new PendingRequests();
    const id = p.newId();
    const r = p.withId<PromptOkMessage>(id, 'prompt.ok', 'prompt on c', 500);
    const seen = r.catch((e: unknown) => e);
    vi.advanceTimersByTime(499);
    expect(p.size).toBe(1);
    vi.advanceTimersByTime(1);
    expect(await seen).toMatchObject({ code: 'E_TIMEOUT', message: 'no reply to prompt on c within 500 ms' });
    expect(p.size).toBe(0);
    expect(p.settle(ok(id, 1))).toBe(false);
  });

  it('rejectAll rejects every waiting request with the given error and clears their timers', async () => {
    vi.useFakeTimers();
    const p = new PendingRequests();
    const a = p.withId(p.newId(), 'prompt.ok', 'a', 500).catch((e: unknown) => e);
    const b = p.inOrder('subscribed', 'b', 500).catch((e: unknown) => e);
    p.rejectAll(new SegstreamClientError('E_CONNECTION_LOST', 'gone'));
    expect(vi.getTimerCount()).toBe(0);
    expect(await a).toMatchObject({ code: 'E_CONNECTION_LOST' });
    expect(await b).toMatchObject({ code: 'E_CONNECTION_LOST' });
  });
});
