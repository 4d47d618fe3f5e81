import { describe, expect, it } from 'vitest';
import type { EventFields } from '../../../web/events.js';
import { historyUrl, localTimeMs, mediaSpan, mergePage, olderQuery, pageWasFull, parseEvent, parseEventList } from '../../../web/history.js';

const event = (id: string, startedAt: number, extra: Partial<EventFields> = {}): EventFields => ({
  id, camera: 'road', zone: 'lane', rule: 0, kind: 'presence', tracks: [1], labels: ['car'], startedAt, updatedAt: startedAt, endedAt: null, mediaStartS: 1, mediaUpdatedS: 2, mediaEndS: null, snapshot: `/events/${id}/snapshot.jpg`, ...extra,
});

describe('event history queries', () => {
  it('historyUrl sets the filters given, leaves out empty ones, always the limit', () => {
    expect(historyUrl({ limit: 20 })).toBe('/events?limit=20');
    expect(historyUrl({ camera: 'road 1', zone: 'a&b', kind: 'presence', since: 1000.7, until: 2000, limit: 5 })).toBe('/events?camera=road+1&zone=a%26b&kind=presence&since=1000&until=2000&limit=5');
    expect(historyUrl({ camera: '', zone: '', limit: 1 })).toBe('/events?limit=1');
  });

  it('olderQuery: the same filters up to 1 ms past the oldest start, asking on top for the shown events it returns again', () => {
    expect(olderQuery({ camera: 'road', limit: 2 }, [event('c', 300), event('b', 200)])).toEqual({ camera: 'road', limit: 3, until: 201 });
    // Three shown events started in the last two ms: an inclusive until returns them all again.
    expect(olderQuery({ limit: 2 }, [event('d', 300), event('c', 201), event('b', 200), event('a', 200)])).toEqual({ limit: 5, until: 201 });
    expect(olderQuery({ limit: 1000 }, [event('a', 1)])).toEqual({ limit: 1000, until: 2 });
    expect(olderQuery({ limit: 2 }, [])).toBeUndefined();
  });

  it('paging with a page size of 1 moves on whether until is inclusive or exclusive', () => {
    const all = [event('e', 500), event('d', 400), event('c', 400), event('b', 300), event('a', 100)];
    for (const inclusive of [true, false]) {
      const server = (q: { until?: number; limit: number }): EventFields[] =>
        all.filter((e) => q.until === undefined || (inclusive ? e.startedAt <= q.until : e.startedAt < q.until)).slice(0, q.limit);
      const base = { limit: 1 };
      let shown: EventFields[] = [];
      let q: { until?: number; limit: number } | undefined = base;
      for (let pages = 0; q && pages < 10; pages++) {
        const page = server(q);
        const before = shown.length;
        shown = mergePage(shown, page);
        q = pageWasFull(q, page) && shown.length > before ? olderQuery(base, shown) : undefined;
      }
      expect(shown.map((e) => e.id), inclusive ? 'inclusive' : 'exclusive').toEqual(['e', 'd', 'c', 'b', 'a']);
    }
  });

  it('mergePage drops events already shown (an inclusive until repeats the last one)', () => {
    const shown = [event('c', 300), event('b', 200)];
    expect(mergePage(shown, [event('b', 200), event('a', 100)]).map((e) => e.id)).toEqual(['c', 'b', 'a']);
  });

  it('localTimeMs reads datetime-local values in the browser\'s zone; empty or bad: undefined', () => {
    expect(localTimeMs('2024-05-01T10:00')).toBe(new Date(2024, 4, 1, 10, 0).getTime());
    expect(localTimeMs('')).toBeUndefined();
    expect(localTimeMs('yesterday')).toBeUndefined();
  });

  it('mediaSpan', () => {
    expect(mediaSpan({ mediaStartS: 1.25, mediaEndS: null })).toBe('media from 1.3 s');
    expect(mediaSpan({ mediaStartS: 1, mediaEndS: 4.04 })).toBe('media 1.0–4.0 s');
  });
});

describe('parseEventList', () => {
  it('takes the body\'s events, health events (zone, rule null) and unknown kinds included', () => {
    const events = [event('a', 1), event('h', 2, { zone: null, rule: null, kind: 'future_kind', tracks: [], labels: [], snapshot: null, endedAt: 3, mediaEndS: 4 })];
    expect(parseEventList({ events })).toEqual(events);
  });

  it('refuses what is not an event, naming the field', () => {
    expect(() => parseEventList({})).toThrow('"events"');
    expect(() => parseEvent({ ...event('a', 1), startedAt: '1' }, 'e')).toThrow('e.startedAt: expected a number');
    expect(() => parseEventList({ events: [event('a', 1), { ...event('b', 1), tracks: ['x'] }] })).toThrow('events[1].tracks');
    expect(() => parseEvent({ ...event('a', 1), snapshot: 5 })).toThrow('event.snapshot');
  });
});
