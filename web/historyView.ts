import { errorText, type Api } from './api.js';
import { el } from './dom.js';
import { durationText, kindText, placeText, type EventFields } from './events.js';
import { DEFAULT_LIMIT, historyUrl, localTimeMs, MAX_LIMIT, mediaSpan, mergePage, olderQuery, pageWasFull, parseEventList, type HistoryFilters } from './history.js';

/** The event kinds the filter offers (the server's EVENT_KINDS); the server refuses others. */
const KINDS = ['presence', 'stopped', 'count', 'unknown', 'frozen', 'video_lost', 'obstructed', 'moved'] as const;

/**
 * The history tab: `GET /events` with the form's filters, newest first, each event with its
 * times and its snapshot (fetched with the token, shown as a data: URL; click to enlarge);
 * "Older" asks for the page before the last event shown.
 */
export class HistoryView {
  private readonly form: HTMLFormElement;
  private readonly cameraSelect: HTMLSelectElement;
  private readonly list: HTMLOListElement;
  private readonly status: HTMLElement;
  private readonly more: HTMLButtonElement;
  private readonly dialog: HTMLDialogElement;
  private readonly dialogImg: HTMLImageElement;
  private readonly dialogCaption: HTMLElement;
  private shown: EventFields[] = [];
  /** The filters of the search shown (the page size the user asked for). */
  private filtersShown: HistoryFilters | undefined;
  private next: HistoryFilters | undefined;
  /** Answers of an older query are dropped: only the newest query's pages are shown. */
  private generation = 0;

  constructor(
    readonly root: HTMLElement,
    private readonly api: Api,
  ) {
    this.cameraSelect = el('select', { name: 'camera' }, el('option', { value: '' }, 'any'));
    const kind = el('select', { name: 'kind' }, el('option', { value: '' }, 'any'), ...KINDS.map((k) => el('option', { value: k }, kindText(k))));
    this.form = el(
      'form',
      { class: 'history-filters', 'aria-label': 'event history filters' },
      el('label', {}, 'camera ', this.cameraSelect),
      el('label', {}, 'zone ', el('input', { name: 'zone', type: 'text', maxlength: '64', autocomplete: 'off', placeholder: 'any' })),
      el('label', {}, 'kind ', kind),
      el('label', {}, 'since ', el('input', { name: 'since', type: 'datetime-local', step: '1' })),
      el('label', {}, 'until ', el('input', { name: 'until', type: 'datetime-local', step: '1' })),
      el('label', {}, 'per page ', el('input', { name: 'limit', type: 'number', min: '1', max: String(MAX_LIMIT), value: String(DEFAULT_LIMIT) })),
      el('button', { type: 'submit' }, 'Search'),
    );
    this.status = el('p', { class: 'history-status', role: 'status', 'aria-live': 'polite' });
    this.list = el('ol', { class: 'history', 'aria-label': 'events, newest first' });
    this.more = el('button', { type: 'button', class: 'older', hidden: '' }, 'Older events');
    this.dialogImg = el('img', { alt: '' });
    this.dialogCaption = el('p', {});
    const closeButton = el('button', { type: 'button' }, 'Close');
    this.dialog = el('dialog', { class: 'snapshot', 'aria-label': 'event snapshot' }, this.dialogImg, this.dialogCaption, closeButton);
    closeButton.addEventListener('click', () => this.dialog.close());
    this.dialog.addEventListener('click', (e) => {
      if (e.target === this.dialog) this.dialog.close();
    });
    root.append(el('h2', {}, 'Event history'), this.form, this.status, this.list, this.more, this.dialog);
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.search();
    });
    this.more.addEventListener('click', () => void this.older());
  }

  /** The cameras the filter offers (the selection kept when it is still one of them). */
  setCameras(ids: readonly string[]): void {
    const current = this.cameraSelect.value;
    this.cameraSelect.replaceChildren(el('option', { value: '' }, 'any'), ...ids.map((id) => el('option', { value: id }, id)));
    this.cameraSelect.value = ids.includes(current) ? current : '';
  }

  /** The form's filters, or what is wrong with them. */
  private filters(): HistoryFilters | string {
    const data = new FormData(this.form);
    const text = (k: string): string => String(data.get(k) ?? '').trim();
    const limit = Number(text('limit') || DEFAULT_LIMIT);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) return `per page: a whole number from 1 to ${MAX_LIMIT}`;
    const f: HistoryFilters = { limit };
    for (const k of ['camera', 'zone', 'kind'] as const) if (text(k)) f[k] = text(k);
    for (const k of ['since', 'until'] as const) {
      const raw = text(k);
      const ms = localTimeMs(raw);
      if (raw && ms === undefined) return `${k}: not a time`;
      if (ms !== undefined) f[k] = ms;
    }
    if (f.since !== undefined && f.until !== undefined && f.since > f.until) return 'since is after until';
    return f;
  }

  async search(): Promise<void> {
    const f = this.filters();
    if (typeof f === 'string') return this.setStatus(f, true);
    this.shown = [];
    this.filtersShown = f;
    this.next = undefined;
    this.list.replaceChildren();
    await this.page(f, ++this.generation);
  }

  private async older(): Promise<void> {
    if (this.next) await this.page(this.next, this.generation);
  }

  private async page(f: HistoryFilters, generation: number): Promise<void> {
    this.more.disabled = true;
    this.setStatus('loading…');
    let page: EventFields[];
    try {
      page = parseEventList(await this.api.getJson(historyUrl(f)));
    } catch (err) {
      if (generation !== this.generation) return;
      this.more.disabled = false;
      return this.setStatus(`history could not be loaded: ${errorText(err)}`, true);
    }
    if (generation !== this.generation) return;
    const merged = mergePage(this.shown, page);
    const added = merged.slice(this.shown.length);
    this.shown = merged;
    for (const e of added) this.list.append(this.row(e));
    // Nothing new on a full page would ask for the same again: stop there.
    this.next = pageWasFull(f, page) && added.length > 0 ? olderQuery(this.filtersShown ?? f, this.shown) : undefined;
    this.more.hidden = this.next === undefined;
    this.more.disabled = false;
    this.setStatus(this.shown.length === 0 ? 'no events' : `${this.shown.length} event${this.shown.length === 1 ? '' : 's'}${this.next ? '' : ', no older ones'}`);
  }

  private row(e: EventFields): HTMLLIElement {
    const started = new Date(e.startedAt).toLocaleString();
    const ended = e.endedAt === null ? 'still open' : `ended ${new Date(e.endedAt).toLocaleTimeString()} (${durationText(e.endedAt - e.startedAt)})`;
    const labels = e.labels.length > 0 ? e.labels.join(', ') : 'no objects';
    const thumb = el('div', { class: 'thumb' });
    const li = el(
      'li',
      { 'data-event': e.id, 'data-kind': e.kind },
      thumb,
      el(
        'div',
        { class: 'what' },
        el('strong', {}, kindText(e.kind)),
        ` · ${e.camera} · ${placeText(e)} · ${labels}`,
        el('br'),
        el('time', { datetime: new Date(e.startedAt).toISOString() }, started),
        ` · ${ended} · ${mediaSpan(e)}`,
      ),
    );
    if (e.snapshot === null) thumb.append(el('span', { class: 'no-snapshot' }, 'no snapshot'));
    else void this.loadSnapshot(e, e.snapshot, thumb, `${kindText(e.kind)}, ${placeText(e)}, ${started}`);
    return li;
  }

  private async loadSnapshot(e: EventFields, path: string, into: HTMLElement, caption: string): Promise<void> {
    into.append(el('span', { class: 'no-snapshot' }, 'loading…'));
    try {
      const url = await this.api.imageDataUrl(path);
      const img = el('img', { alt: `snapshot: ${caption}`, src: url });
      const button = el('button', { type: 'button', class: 'enlarge', 'aria-label': `enlarge the snapshot of ${caption}` }, img);
      button.addEventListener('click', () => {
        this.dialogImg.src = url;
        this.dialogImg.alt = `snapshot: ${caption}`;
        this.dialogCaption.textContent = `${caption} · event ${e.id}`;
        this.dialog.showModal();
      });
      into.replaceChildren(button);
    } catch (err) {
      into.replaceChildren(el('span', { class: 'no-snapshot', title: errorText(err) }, 'no snapshot'));
    }
  }

  private setStatus(text: string, error = false): void {
    this.status.textContent = text;
    this.status.classList.toggle('error', error);
  }
}
