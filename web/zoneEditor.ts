import { errorText, type Api } from './api.js';
import { el } from './dom.js';
import {
  DEFAULT_RULE_FORM,
  FORM_RULE_KINDS,
  labelAnchor,
  nextZoneName,
  parseZones,
  PolygonDraft,
  ruleFromForm,
  ruleSummary,
  zoneAt,
  zoneNameError,
  type Point,
  type WireZone,
} from './zones.js';

/** Zone colours: normal, with an open event, selected; fill opacities 0..1. */
const ZONE_RGB = '255, 214, 0';
const ALERT_RGB = '255, 48, 48';
const ZONE_FILL = 0.1;
const ALERT_FILL = 0.18;

/**
 * A tile's zones: loaded from `GET /api/cameras/<id>/zones`, drawn over the overlay (outline,
 * translucent fill, name; red while an event of theirs is open), and edited in the tile's
 * zones mode: clicks add corners (source px), double-click / Enter / a click on the first
 * corner closes, a form names the zone and sets its rule, Save PUTs the whole list. The tile
 * passes positions already in source px and calls `draw` from its own draw.
 */
export class ZoneEditor {
  /** The zones mode toggle and the status line (always shown). */
  readonly bar: HTMLElement;
  /** What zones mode adds to the tile (hidden outside it). */
  readonly panel: HTMLElement;
  zones: WireZone[] = [];
  private readonly draft = new PolygonDraft();
  /** A closed polygon waiting for its name and rule. */
  private pending: Point[] | undefined;
  private hover: Point | undefined;
  private selected = -1;
  private dirty = false;
  private editing = false;
  private readonly toggle: HTMLButtonElement;
  private readonly status: HTMLElement;
  private readonly list: HTMLUListElement;
  private readonly form: HTMLFormElement;
  private readonly formError: HTMLElement;
  private readonly save: HTMLButtonElement;
  private readonly revert: HTMLButtonElement;
  private readonly fields: { name: HTMLInputElement; kind: HTMLSelectElement; classes: HTMLInputElement; seconds: HTMLInputElement; above: HTMLInputElement; aboveLabel: HTMLElement };

  constructor(
    private readonly camera: string,
    private readonly api: Api,
    /** The zones or the draft changed: redraw the overlay. */
    private readonly redraw: () => void,
    /** Where the focus goes back to after the form (the tile, for its keys). */
    private readonly home: () => void,
  ) {
    this.toggle = el('button', { type: 'button', class: 'zones-toggle', 'aria-pressed': 'false' }, 'Edit zones');
    this.status = el('span', { class: 'zones-status', role: 'status', 'aria-live': 'polite' });
    this.bar = el('div', { class: 'zones-bar' }, this.toggle, this.status);

    const name = el('input', { name: 'zone-name', type: 'text', maxlength: '64', required: '', autocomplete: 'off' });
    const kind = el('select', { name: 'rule-kind' }, ...FORM_RULE_KINDS.map((k) => el('option', { value: k }, k)));
    const classes = el('input', { name: 'rule-classes', type: 'text', autocomplete: 'off', placeholder: 'empty: every class' });
    const seconds = el('input', { name: 'rule-seconds', type: 'number', min: '0', max: '86400', step: 'any', required: '' });
    const above = el('input', { name: 'rule-above', type: 'number', min: '0', max: '10000', step: '1' });
    const aboveLabel = el('label', {}, 'more than ', above);
    this.fields = { name, kind, classes, seconds, above, aboveLabel };
    this.formError = el('span', { class: 'form-error', role: 'alert' });
    this.form = el(
      'form',
      { class: 'zone-new', hidden: '', 'aria-label': 'new zone' },
      el('label', {}, 'name ', name),
      el('label', {}, 'rule ', kind),
      el('label', {}, 'classes ', classes),
      aboveLabel,
      el('label', {}, 'for ', seconds, ' s'),
      el('button', { type: 'submit' }, 'Add zone'),
      el('button', { type: 'button', class: 'discard' }, 'Discard'),
      this.formError,
    );
    this.list = el('ul', { class: 'zone-list', 'aria-label': 'zones' });
    this.save = el('button', { type: 'button', class: 'zones-save', disabled: '' }, 'Save zones');
    this.revert = el('button', { type: 'button', class: 'zones-revert', disabled: '' }, 'Revert');
    this.panel = el(
      'div',
      { class: 'zone-editor', hidden: '' },
      el('p', { class: 'hint' }, 'click: add a corner · double-click, Enter or the first corner: close · Backspace: remove the last corner · Esc: cancel · shift-click a zone: select, Delete: remove it'),
      this.form,
      this.list,
      el('div', { class: 'zone-actions' }, this.save, this.revert),
    );

    this.toggle.addEventListener('click', () => this.setEditing(!this.editing));
    kind.addEventListener('change', () => this.showAbove());
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.addPending();
    });
    this.form.querySelector('.discard')!.addEventListener('click', () => this.cancelPending());
    this.form.addEventListener('keydown', (e) => {
      if (e.key !== 'Escape') return;
      e.preventDefault();
      e.stopPropagation();
      this.cancelPending();
    });
    this.save.addEventListener('click', () => void this.store());
    this.revert.addEventListener('click', () => {
      this.dirty = false;
      void this.load();
    });
  }

  /** Whether clicks on the tile go to the zones (not to prompts). */
  get active(): boolean {
    return this.editing;
  }

  setEditing(on: boolean): void {
    this.editing = on;
    this.toggle.setAttribute('aria-pressed', String(on));
    this.toggle.textContent = on ? 'Done' : 'Edit zones';
    this.panel.hidden = !on;
    if (!on) {
      this.draft.clear();
      this.pending = undefined;
      this.form.hidden = true;
      this.hover = undefined;
      this.selected = -1;
      this.renderList();
    }
    this.redraw();
  }

  /** The camera's zones from the server; unsaved edits are kept (Revert drops them). */
  async load(): Promise<void> {
    try {
      const zones = parseZones(await this.api.getJson(`/api/cameras/${encodeURIComponent(this.camera)}/zones`));
      if (this.dirty) return;
      this.zones = zones;
      this.selected = -1;
      this.setStatus(zones.length === 0 ? 'no zones' : `${zones.length} zone${zones.length === 1 ? '' : 's'}`);
    } catch (err) {
      this.setStatus(`zones could not be loaded: ${errorText(err)}`, true);
    }
    this.renderList();
    this.redraw();
  }

  /** Whether a reconnect may reload (nothing unsaved). */
  get reloadable(): boolean {
    return !this.dirty;
  }

  /** A click in zones mode at p (source px); `tolerance`: SNAP_PX in source px. */
  click(p: Point, tolerance: number, shift: boolean): void {
    if (!this.editing || this.pending) return;
    if (shift && this.draft.empty) {
      this.selected = zoneAt(this.zones, p);
      this.renderList();
      return this.redraw();
    }
    this.selected = -1;
    const r = this.draft.add(p, tolerance);
    if (r === 'close') return this.closeDraft();
    if (r === 'full') this.setStatus('a zone has at most 256 corners: close it', true);
    this.renderList();
    this.redraw();
  }

  /** Double-click: closes the polygon (its two clicks added one corner). */
  dblclick(): void {
    if (this.editing && !this.pending && !this.draft.empty) this.closeDraft();
  }

  /** The pointer over the picture (source px), or undefined once it left: the rubber band. */
  move(p: Point | undefined): void {
    if (!this.editing || this.draft.empty) return void (this.hover = p);
    this.hover = p;
    this.redraw();
  }

  /** A key on the tile in zones mode; true when it was the editor's. */
  key(key: string): boolean {
    if (!this.editing || this.pending) return false;
    if (key === 'Enter' && !this.draft.empty) {
      this.closeDraft();
      return true;
    }
    if (key === 'Escape') {
      if (!this.draft.empty) {
        this.draft.clear();
        this.setStatus('drawing cancelled');
      } else if (this.selected >= 0) this.selected = -1;
      else this.setEditing(false);
      this.renderList();
      this.redraw();
      return true;
    }
    if (key === 'Backspace' && !this.draft.empty) {
      this.draft.undo();
      this.redraw();
      return true;
    }
    if ((key === 'Delete' || key === 'Backspace') && this.selected >= 0) {
      this.remove(this.selected);
      return true;
    }
    return false;
  }

  private closeDraft(): void {
    const r = this.draft.close();
    if ('error' in r) return this.setStatus(r.error, true);
    this.pending = r.polygon;
    const { name, kind, classes, seconds, above } = this.fields;
    name.value = nextZoneName(this.zones.map((z) => z.name));
    kind.value = DEFAULT_RULE_FORM.kind;
    classes.value = DEFAULT_RULE_FORM.classes;
    seconds.value = DEFAULT_RULE_FORM.seconds;
    above.value = DEFAULT_RULE_FORM.above;
    this.formError.textContent = '';
    this.showAbove();
    this.form.hidden = false;
    name.focus();
    name.select();
    this.redraw();
  }

  private showAbove(): void {
    this.fields.aboveLabel.hidden = this.fields.kind.value !== 'count';
    this.fields.classes.disabled = this.fields.kind.value === 'unknown';
  }

  private addPending(): void {
    const polygon = this.pending;
    if (!polygon) return;
    const { name, kind, classes, seconds, above } = this.fields;
    const zoneName = name.value.trim();
    const nameError = zoneNameError(zoneName, this.zones.map((z) => z.name));
    if (nameError) return void (this.formError.textContent = `name: ${nameError}`);
    const r = ruleFromForm({ kind: kind.value, classes: classes.value, seconds: seconds.value, above: above.value });
    if ('error' in r) return void (this.formError.textContent = r.error);
    this.zones = [...this.zones, { name: zoneName, polygon, rules: [r.rule] }];
    this.pending = undefined;
    this.form.hidden = true;
    this.changed(`zone '${zoneName}' added, not saved yet`);
    this.home();
  }

  private cancelPending(): void {
    this.pending = undefined;
    this.form.hidden = true;
    this.setStatus('zone discarded');
    this.redraw();
    this.home();
  }

  private remove(index: number): void {
    const zone = this.zones[index];
    if (!zone) return;
    this.zones = this.zones.filter((_, i) => i !== index);
    this.selected = -1;
    this.changed(`zone '${zone.name}' deleted, not saved yet`);
  }

  private changed(status: string): void {
    this.dirty = true;
    this.save.disabled = false;
    this.revert.disabled = false;
    this.setStatus(status);
    this.renderList();
    this.redraw();
  }

  /** PUT the whole list; the server's answer is the list from then on; a refusal shows its message. */
  private async store(): Promise<void> {
    this.save.disabled = true;
    this.setStatus('saving…');
    try {
      const zones = parseZones(await this.api.putJson(`/api/cameras/${encodeURIComponent(this.camera)}/zones`, this.zones));
      this.zones = zones;
      this.dirty = false;
      this.revert.disabled = true;
      this.selected = -1;
      this.setStatus(`saved ${zones.length} zone${zones.length === 1 ? '' : 's'}`);
    } catch (err) {
      this.save.disabled = false;
      this.setStatus(`not saved: ${errorText(err)}`, true);
    }
    this.renderList();
    this.redraw();
  }

  private setStatus(text: string, error = false): void {
    this.status.textContent = text;
    this.status.classList.toggle('error', error);
  }

  private renderList(): void {
    this.list.replaceChildren(
      ...this.zones.map((z, i) => {
        const del = el('button', { type: 'button', class: 'delete', 'aria-label': `delete zone ${z.name}` }, 'Delete');
        del.addEventListener('click', () => this.remove(i));
        const rules = z.rules.length === 0 ? 'no rules' : z.rules.map(ruleSummary).join('; ');
        return el('li', { 'data-zone': z.name, class: i === this.selected ? 'selected' : '' }, el('strong', {}, z.name), ` · ${rules} `, del);
      }),
    );
  }

  /** Draws the zones (red: `open`, zones with an open event), the draft and the closed polygon waiting for its form; canvas in source px. */
  draw(ctx: CanvasRenderingContext2D, lineWidth: number, open: ReadonlySet<string>): void {
    ctx.save();
    ctx.lineJoin = 'round';
    this.zones.forEach((z, i) => {
      if (z.polygon.length < 3) return;
      const alert = open.has(z.name);
      const rgb = alert ? ALERT_RGB : ZONE_RGB;
      path(ctx, z.polygon, true);
      ctx.fillStyle = `rgba(${rgb}, ${alert ? ALERT_FILL : ZONE_FILL})`;
      ctx.fill();
      ctx.strokeStyle = `rgb(${rgb})`;
      ctx.lineWidth = lineWidth * (alert || i === this.selected ? 3 : 1.5);
      ctx.setLineDash(i === this.selected ? [6 * lineWidth, 4 * lineWidth] : []);
      ctx.stroke();
      const [x, y] = labelAnchor(z.polygon);
      ctx.setLineDash([]);
      ctx.textBaseline = 'top';
      const label = alert ? `${z.name} (event)` : z.name;
      const w = ctx.measureText(label).width;
      const h = ctx.measureText('M').width * 1.6;
      ctx.fillStyle = 'rgba(0, 0, 0, 0.55)';
      ctx.fillRect(x, y, w + 6, h);
      ctx.fillStyle = `rgb(${rgb})`;
      ctx.fillText(label, x + 3, y + 2);
    });
    ctx.setLineDash([]);
    if (this.pending) {
      path(ctx, this.pending, true);
      ctx.fillStyle = `rgba(${ZONE_RGB}, ${ZONE_FILL * 2})`;
      ctx.fill();
      ctx.strokeStyle = 'rgb(255, 255, 255)';
      ctx.lineWidth = lineWidth * 2;
      ctx.setLineDash([6 * lineWidth, 4 * lineWidth]);
      ctx.stroke();
      ctx.setLineDash([]);
    }
    const v = this.draft.vertices;
    if (this.editing && v.length > 0) {
      const line = this.hover ? [...v, this.hover] : v;
      path(ctx, line, false);
      ctx.strokeStyle = 'rgb(255, 255, 255)';
      ctx.lineWidth = lineWidth * 2;
      ctx.stroke();
      v.forEach(([x, y], i) => {
        ctx.beginPath();
        ctx.arc(x, y, (i === 0 ? 5 : 3) * lineWidth, 0, 2 * Math.PI);
        ctx.fillStyle = i === 0 ? `rgb(${ZONE_RGB})` : 'rgb(255, 255, 255)';
        ctx.fill();
      });
    }
    ctx.restore();
  }
}

function path(ctx: CanvasRenderingContext2D, points: readonly (readonly [number, number])[], closed: boolean): void {
  ctx.beginPath();
  points.forEach(([x, y], i) => (i === 0 ? ctx.moveTo(x, y) : ctx.lineTo(x, y)));
  if (closed) ctx.closePath();
}
