import { el } from './dom.js';
import { durationText, eventLine, EventBook, type BookEntry, type EventUpdate } from './events.js';
import { historyUrl, parseEvent, parseEventList } from './history.js';
import { errorText, type Api } from './api.js';

/** The "since" times are rewritten this often while something is listed, ms. */
const TICK_MS = 1000;
/** Events asked of the history on (re)connect, to list those already open. */
const SEED_LIMIT = 100;

/**
 * A tile's live events: its camera's open events (kind, zone, labels, since when), updated by
 * the `event` messages; ended ones stay a while, fading (FADE_MS). On (re)connect the history
 * fills in events that were open before the page connected.
 */
export class EventsPanel {
  readonly root: HTMLElement;
  readonly book = new EventBook();
  private readonly list: HTMLUListElement;
  private readonly count: HTMLElement;
  private readonly note: HTMLElement;
  private readonly rows = new Map<string, HTMLLIElement>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;

  constructor(
    private readonly camera: string,
    private readonly api: Api,
    /** Open events changed: the tile redraws its highlights. */
    private readonly changed: () => void,
  ) {
    this.count = el('span', { class: 'count' }, 'none open');
    this.list = el('ul', { class: 'live-events', 'aria-label': `live events of ${camera}` });
    this.note = el('p', { class: 'note', role: 'status' });
    this.root = el('section', { class: 'events-panel' }, el('h3', {}, 'Events ', this.count), this.list, this.note);
  }

  /** An `event` message (checked: one that is not as the protocol says is shown as ignored, not drawn). */
  onEvent(m: EventUpdate): void {
    try {
      parseEvent(m, 'event message');
    } catch (err) {
      this.note.textContent = `ignored: ${(err as Error).message}`;
      return;
    }
    if (this.book.apply(m, Date.now())) this.update();
  }

  /** Lists events the history has as open (after a connect: those that started before). */
  async seed(): Promise<void> {
    try {
      const events = parseEventList(await this.api.getJson(historyUrl({ camera: this.camera, limit: SEED_LIMIT })));
      this.note.textContent = '';
      if (this.book.seed(events)) this.update();
    } catch (err) {
      this.note.textContent = `event history unavailable: ${errorText(err)}`;
    }
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private update(): void {
    this.render();
    this.changed();
  }

  private render(): void {
    if (this.closed) return;
    const now = Date.now();
    const entries = this.book.entries(now);
    const keep = new Set(entries.map((e) => e.event.id));
    for (const [id, li] of this.rows) {
      if (keep.has(id)) continue;
      li.remove();
      this.rows.delete(id);
    }
    // In order: each row (re)appended where it belongs; kept rows keep their element (the fade goes on).
    for (const entry of entries) {
      let li = this.rows.get(entry.event.id);
      if (!li) {
        li = el('li', { 'data-event': entry.event.id });
        this.rows.set(entry.event.id, li);
      }
      fill(li, entry, now);
      this.list.append(li);
    }
    const open = this.book.openCount;
    this.count.textContent = open === 0 ? 'none open' : `${open} open`;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (entries.length > 0) {
      const expiry = this.book.nextExpiry();
      const wait = expiry === undefined ? TICK_MS : Math.max(0, Math.min(TICK_MS, expiry - now));
      this.timer = setTimeout(() => {
        const before = this.book.openCount;
        this.render();
        if (this.book.openCount !== before) this.changed();
      }, wait);
    }
  }
}

function fill(li: HTMLLIElement, { event: e, open, endSeenAt }: BookEntry, now: number): void {
  li.dataset['kind'] = e.kind;
  li.dataset['zone'] = e.zone ?? '';
  li.className = open ? 'open' : 'ended';
  const since = new Date(e.startedAt).toLocaleTimeString();
  const when = open
    ? `since ${since} (${durationText(now - e.startedAt)})`
    : `ended after ${durationText((e.endedAt ?? e.updatedAt) - e.startedAt)}${endSeenAt !== undefined ? `, ${durationText(now - endSeenAt)} ago` : ''}`;
  li.textContent = `${eventLine(e)} · ${when}`;
}
