import { describe, expect, it } from 'vitest';
import { durationText, EventBook, eventLine, kindText, type EventFields, type EventUpdate } from '../../../web/events.js';

function ev(id: string, state: string, extra: Partial<EventFields> = {}): EventUpdate {
  return { state, id, camera: 'road', zone: 'lane', rule: 0, kind: 'presence', tracks: [7], labels: ['car'], startedAt: 1000, updatedAt: 1000, endedAt: null, mediaStartS: 1, mediaUpdatedS: 1, mediaEndS: null, snapshot: null, ...extra };
}

describe('EventBook (a tile\'s live events)', () => {
  it('start opens, update changes, end ends and fades for fadeMs; an ended id stays ended', () => {
    const book = new EventBook(10_000);
    expect(book.apply(ev('a', 'start'), 0)).toBe(true);
    expect(book.openZones()).toEqual(new Set(['lane']));
    expect(book.openTracks()).toEqual(new Set([7]));
    book.apply(ev('a', 'update', { tracks: [7, 8], labels: ['car', 'bus'] }), 100);
    expect(book.openTracks()).toEqual(new Set([7, 8]));
    book.apply(ev('a', 'end', { endedAt: 5000 }), 200);
    expect(book.openZones().size).toBe(0);
    expect(book.openCount).toBe(0);
    expect(book.entries(9_000)).toMatchObject([{ open: false, endSeenAt: 200 }]);
    expect(book.nextExpiry()).toBe(10_200);
    expect(book.entries(10_200)).toEqual([]);
    // A late update of an ended event does not reopen it.
    expect(book.apply(ev('a', 'update'), 11_000)).toBe(false);
    expect(book.entries(11_000)).toEqual([]);
  });

  it('an update of an event not seen opens it (it started before the page); an end of one not seen fades; other states are ignored', () => {
    const book = new EventBook();
    book.apply(ev('b', 'update'), 0);
    expect(book.openCount).toBe(1);
    book.apply(ev('c', 'end'), 0);
    expect(book.entries(0).map((e) => [e.event.id, e.open])).toEqual([['b', true], ['c', false]]);
    expect(book.apply(ev('d', 'paused'), 0)).toBe(false);
    expect(book.entries(0).map((e) => e.event)).not.toContainEqual(expect.objectContaining({ state: expect.anything() }));
  });

  it('lists open events newest first, then ended ones latest end first; health events (no zone) highlight no zone', () => {
    const book = new EventBook();
    book.apply(ev('old', 'start', { startedAt: 1 }), 0);
    book.apply(ev('new', 'start', { startedAt: 5 }), 0);
    book.apply(ev('health', 'start', { startedAt: 3, zone: null, rule: null, kind: 'frozen', tracks: [] }), 0);
    book.apply(ev('x', 'end'), 10);
    book.apply(ev('y', 'end'), 20);
    expect(book.entries(30).map((e) => e.event.id)).toEqual(['new', 'health', 'old', 'y', 'x']);
    expect(book.openZones()).toEqual(new Set(['lane']));
  });

  it('seed adds the history\'s open events not known yet; a known one only from a newer copy; ended ones not at all', () => {
    const book = new EventBook();
    book.apply(ev('live', 'update', { updatedAt: 2000, tracks: [1] }), 0);
    book.apply(ev('gone', 'end'), 0);
    const changed = book.seed([
      ev('live', 'x', { updatedAt: 1500, tracks: [9] }),
      ev('gone', 'x'),
      ev('closed', 'x', { endedAt: 3000 }),
      ev('early', 'x', { tracks: [4] }),
    ]);
    expect(changed).toBe(true);
    expect(book.openTracks()).toEqual(new Set([1, 4]));
    expect(book.seed([ev('live', 'x', { updatedAt: 2500, tracks: [2] })])).toBe(true);
    expect(book.openTracks()).toEqual(new Set([2, 4]));
    expect(book.seed([])).toBe(false);
  });
});

describe('event texts', () => {
  it('kinds in words; an unknown kind as it came', () => {
    expect(kindText('video_lost')).toBe('video lost');
    expect(kindText('wrong_way')).toBe('wrong_way');
    expect(kindText('toString')).toBe('toString');
  });

  it('eventLine: kind, zone (or camera), labels', () => {
    expect(eventLine(ev('a', 'start', { labels: ['car', 'bus'] }))).toBe('presence · zone lane · car, bus');
    expect(eventLine(ev('a', 'start', { zone: null, kind: 'moved', labels: [] }))).toBe('camera moved · camera');
  });

  it('durationText', () => {
    expect(durationText(-5)).toBe('0 s');
    expect(durationText(12_900)).toBe('12 s');
    expect(durationText(3 * 60_000 + 5000)).toBe('3 min');
    expect(durationText(2 * 3_600_000)).toBe('2 h');
    expect(durationText(2 * 3_600_000 + 5 * 60_000)).toBe('2 h 5 min');
    expect(durationText(3 * 86_400_000)).toBe('3 d');
  });
});
