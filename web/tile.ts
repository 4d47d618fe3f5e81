import {
  SegstreamClientError,
  watchWhep,
  type CameraView,
  type FrameMessage,
  type JpegFrame,
  type PromptClearedMessage,
  type PromptOkMessage,
  type SegstreamClient,
  type StatusMessage,
  type WhepSession,
  type WireObject,
} from '../src/client/index.js';
import type { Api } from './api.js';
import { BACKGROUND, css } from './colors.js';
import { el } from './dom.js';
import type { EventUpdate } from './events.js';
import { EventsPanel } from './eventsPanel.js';
import { gestureOf, toSource, type PointerDown } from './gesture.js';
import { paintMasks, styleOf } from './masks.js';
import { ZoneEditor } from './zoneEditor.js';
import { SNAP_PX, type Point } from './zones.js';

/** Frames counted for the processed rate, ms. */
const FPS_WINDOW_MS = 2000;
/** The object list is rebuilt at most this often, ms (frames come at up to 30 a second). */
const LIST_INTERVAL_MS = 250;
/** Lines kept in a tile's event log. */
const EVENT_LINES = 8;
/** Frame messages kept to draw the overlay of the JPEG picture shown (by seq). */
const RECENT_FRAMES = 60;
/** Background (exclude) points waiting for the next click. */
const EXCLUDE = [255, 40, 40] as const;
/** Objects an open event is about. */
const IN_EVENT = [255, 48, 48] as const;

const fmt = (v: number | undefined, digits: number): string => (v === undefined ? '-' : v.toFixed(digits));

/**
 * One camera: its video (WHEP) or, without it, the JPEG frames of the WebSocket (when the
 * server offers them; else grey) as the canvas background, with the masks, boxes and ids of
 * its frame messages drawn over it (over a JPEG, those of the JPEG's own frame); its state,
 * rates and objects; prompts by pointer and text.
 */
export class CameraTile {
  readonly root: HTMLElement;
  private readonly stage: HTMLDivElement;
  private readonly video: HTMLVideoElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private readonly maskLayer: HTMLCanvasElement;
  private readonly dragBox: HTMLDivElement;
  private readonly stateEl: HTMLElement;
  /** At a cluster's gateway: the node running the camera. */
  private readonly nodeEl: HTMLElement;
  private readonly stats: Record<'fps' | 'latency' | 'dropped' | 'video', HTMLElement>;
  private readonly objectList: HTMLUListElement;
  private readonly eventList: HTMLOListElement;
  private latest: FrameMessage | undefined;
  private drawn = true;
  private frameTimes: number[] = [];
  private lastList = 0;
  private view: CameraView;
  private connection: 'open' | 'connecting' | 'reconnecting' | 'closed' = 'connecting';
  /** Background points collected for the next foreground click (source px). */
  private background: [number, number][] = [];
  private down: PointerDown | undefined;
  private whep: WhepSession | undefined;
  private videoLive = false;
  /** The newest decoded JPEG frame (the background without video), and the one waiting to be decoded. */
  private backdrop: { bitmap: ImageBitmap; seq: number } | undefined;
  private decoding = false;
  private nextJpeg: JpegFrame | undefined;
  private readonly recent = new Map<number, FrameMessage>();
  /** Told when the tile starts or stops needing JPEG frames (it has no live video). */
  onNeedsJpeg: ((needs: boolean) => void) | undefined;
  private closed = false;
  private listTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly zones: ZoneEditor;
  private readonly events: EventsPanel;

  constructor(
    view: CameraView,
    private readonly client: SegstreamClient,
    private readonly token: string | undefined,
    api: Api,
  ) {
    this.view = view;
    this.video = el('video', { muted: '', playsinline: '', autoplay: '' });
    this.video.muted = true;
    this.canvas = el('canvas', { class: 'overlay', width: String(view.width ?? 640), height: String(view.height ?? 480) });
    this.ctx = this.canvas.getContext('2d')!;
    this.maskLayer = document.createElement('canvas');
    this.dragBox = el('div', { class: 'drag-box', hidden: '' });
    this.stage = el('div', { class: 'stage' }, this.video, this.canvas, this.dragBox);
    this.stateEl = el('span', { class: 'state' });
    this.nodeEl = el('span', { class: 'node', 'data-stat': 'node', ...(view.node ? {} : { hidden: '' }) }, view.node ? `node ${view.node}` : '');
    this.stats = {
      fps: el('span', { 'data-stat': 'fps' }),
      latency: el('span', { 'data-stat': 'latency' }),
      dropped: el('span', { 'data-stat': 'dropped' }),
      video: el('span', { 'data-stat': 'video' }, 'video: overlay only'),
    };
    const text = el('input', { name: 'text', type: 'text', placeholder: 'text prompt, e.g. car', maxlength: '200', autocomplete: 'off' });
    const form = el('form', { class: 'prompt' }, text, el('button', { type: 'submit' }, 'Find'), el('button', { type: 'button', class: 'clear' }, 'Clear targets'));
    this.objectList = el('ul', { class: 'objects' });
    this.eventList = el('ol', { class: 'events' });
    const redraw = (): void => {
      this.drawn = false;
      this.schedule();
    };
    this.zones = new ZoneEditor(view.id, api, redraw, () => this.root.focus());
    this.events = new EventsPanel(view.id, api, redraw);
    this.root = el(
      'section',
      { class: 'tile', 'data-camera': view.id, 'aria-label': `camera ${view.id}` },
      el('header', {}, el('h2', {}, view.id), this.nodeEl, this.stateEl),
      this.stage,
      el('div', { class: 'stats' }, this.stats.fps, this.stats.latency, this.stats.dropped, this.stats.video),
      this.zones.bar,
      this.zones.panel,
      el('p', { class: 'hint' }, 'click: select · shift/right-click: exclude (then click) · drag: box · Esc: forget excluded points'),
      form,
      this.events.root,
      this.objectList,
      this.eventList,
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const t = text.value.trim();
      if (t) this.send(this.client.prompt({ camera: this.view.id, text: t }), `text "${t}"`);
    });
    form.querySelector('.clear')!.addEventListener('click', () => {
      this.background = [];
      this.send(this.client.clear(this.view.id), 'clear');
    });
    this.listenPointer();
    this.resize(view.width ?? 640, view.height ?? 480);
    this.renderState();
    this.renderStats();
    void this.zones.load();
    void this.events.seed();
  }

  /** An `event` message of this camera. */
  onEvent(m: EventUpdate): void {
    this.events.onEvent(m);
  }

  get id(): string {
    return this.view.id;
  }

  /** Starts WHEP playback; on any failure the tile stays on its canvas overlay. */
  async startVideo(): Promise<void> {
    if (this.whep || this.closed) return;
    try {
      const session = await watchWhep(this.view.id, this.video, {
        ...(this.token === undefined ? {} : { token: this.token }),
        onState: (s) => {
          if (s === 'connected') this.setVideo(true, 'video: WebRTC');
          if (s === 'failed') void this.stopVideo('video: WebRTC failed, overlay only');
        },
      });
      if (this.closed) return void session.stop().catch(() => {});
      this.whep = session;
      this.video.addEventListener('playing', () => this.setVideo(true, 'video: WebRTC'), { once: true });
    } catch (err) {
      const code = err instanceof SegstreamClientError ? err.code : 'E_WHEP';
      this.setVideo(false, `video: unavailable (${code}), overlay only`);
      this.event(`video unavailable: ${(err as Error).message}`);
    }
  }

  private async stopVideo(label: string): Promise<void> {
    const s = this.whep;
    this.whep = undefined;
    this.setVideo(false, label);
    await s?.stop().catch(() => {});
  }

  /** Whether the tile wants JPEG frames: it has no live video. */
  get needsJpeg(): boolean {
    return !this.videoLive && !this.closed;
  }

  /** A JPEG frame of this camera: decoded off the main thread by the browser, shown under the overlay while there is no video. */
  onJpeg(f: JpegFrame): void {
    if (this.videoLive || this.closed) return;
    if (this.decoding) {
      this.nextJpeg = f;
      return;
    }
    this.decoding = true;
    createImageBitmap(new Blob([f.jpeg as Uint8Array<ArrayBuffer>], { type: 'image/jpeg' }))
      .then((bitmap) => {
        if (this.videoLive || this.closed) return bitmap.close();
        this.backdrop?.bitmap.close();
        this.backdrop = { bitmap, seq: f.header.seq };
        if (!this.stats.video.textContent?.includes('JPEG')) this.stats.video.textContent = 'video: JPEG over WebSocket';
        this.drawn = false;
        this.schedule();
      })
      .catch(() => {})
      .finally(() => {
        this.decoding = false;
        const next = this.nextJpeg;
        this.nextJpeg = undefined;
        if (next) this.onJpeg(next);
      });
  }

  private setVideo(live: boolean, label: string): void {
    const before = this.videoLive;
    this.videoLive = live;
    if (live) {
      this.backdrop?.bitmap.close();
      this.backdrop = undefined;
    }
    if (live !== before) this.onNeedsJpeg?.(!live);
    this.root.classList.toggle('has-video', live);
    this.stats.video.textContent = label;
    this.drawn = false;
    this.schedule();
  }

  onFrame(m: FrameMessage): void {
    const now = performance.now();
    this.frameTimes.push(now);
    while (this.frameTimes.length > 0 && this.frameTimes[0]! < now - FPS_WINDOW_MS) this.frameTimes.shift();
    if (!this.latest || this.latest.width !== m.width || this.latest.height !== m.height) this.resize(m.width, m.height);
    this.latest = m;
    if (m.node !== undefined) this.showNode(m.node);
    this.recent.set(m.seq, m);
    if (this.recent.size > RECENT_FRAMES) this.recent.delete(this.recent.keys().next().value!);
    this.drawn = false;
    this.schedule();
  }

  /** Which node runs the camera (a cluster's gateway says; a lone `run` never does). */
  private showNode(node: string | undefined): void {
    const text = node === undefined ? 'no node' : `node ${node}`;
    if (this.nodeEl.textContent === text && !this.nodeEl.hidden) return;
    this.nodeEl.textContent = text;
    this.nodeEl.hidden = false;
  }

  onStatus(m: StatusMessage): void {
    const before = this.view.state;
    const { type: _t, camera: _c, error, ...fields } = m;
    this.view = { ...this.view, ...fields, ...(error ? { error } : {}) };
    if (!error) delete this.view.error;
    if (m.node !== undefined) this.showNode(m.node);
    else if (m.state === 'unclaimed') this.showNode(undefined);
    if (m.width && m.height) this.resize(m.width, m.height);
    if (m.state !== before) {
      this.event(m.state === 'failed' || m.state === 'reconnecting' ? `camera ${m.state}${m.error ? `: ${m.error.code} ${m.error.message}` : ''}` : `camera ${m.state}`);
    }
    this.renderState();
  }

  onConnection(state: 'open' | 'connecting' | 'reconnecting' | 'closed', note?: string): void {
    if (state === this.connection) return;
    this.connection = state;
    if (note) this.event(note);
    this.renderState();
  }

  /** `hello` after a reconnect: the camera as the server sees it now. */
  onView(view: CameraView): void {
    this.view = view;
    if (view.width && view.height) this.resize(view.width, view.height);
    this.renderState();
    // Zones may have changed and events started or ended while the connection was down.
    if (this.zones.reloadable && !this.zones.active) void this.zones.load();
    void this.events.seed();
  }

  event(text: string): void {
    const li = el('li', {}, `${new Date().toLocaleTimeString()} ${text}`);
    this.eventList.prepend(li);
    while (this.eventList.children.length > EVENT_LINES) this.eventList.lastElementChild!.remove();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.listTimer);
    this.events.close();
    this.backdrop?.bitmap.close();
    this.backdrop = undefined;
    void this.stopVideo('video: stopped');
    this.root.remove();
  }

  /** What the tile shows as its state: the connection's when it is down, else the camera's. */
  private stateText(): { state: string; text: string } {
    if (this.connection !== 'open') return { state: 'reconnecting', text: this.connection === 'closed' ? 'disconnected' : 'reconnecting' };
    const v = this.view;
    switch (v.state) {
      case 'streaming':
        return { state: 'live', text: 'live' };
      case 'failed':
        return { state: 'failed', text: `failed${v.error ? `: ${v.error.code} ${v.error.message}` : ''}` };
      case 'reconnecting':
        return { state: 'reconnecting', text: `reconnecting${v.error ? ` (${v.error.code})` : ''}` };
      default:
        return { state: v.state, text: v.state };
    }
  }

  private renderState(): void {
    const { state, text } = this.stateText();
    this.root.dataset['state'] = state;
    this.stateEl.textContent = text;
    this.stateEl.title = text;
  }

  private renderStats(): void {
    const m = this.latest;
    const span = this.frameTimes.length > 1 ? this.frameTimes[this.frameTimes.length - 1]! - this.frameTimes[0]! : 0;
    const fps = span > 0 ? ((this.frameTimes.length - 1) * 1000) / span : undefined;
    this.stats.fps.textContent = `${fmt(fps, 1)} fps`;
    this.stats.latency.textContent = `${m ? m.latencyMs : '-'} ms latency`;
    this.stats.dropped.textContent = `${m ? m.dropped : '-'} dropped`;
  }

  private renderObjects(objects: readonly WireObject[]): void {
    const inEvent = this.events.book.openTracks();
    const rows = [...objects].sort((a, b) => Number(b.target !== undefined) - Number(a.target !== undefined) || (a.id ?? 1e9) - (b.id ?? 1e9));
    this.objectList.replaceChildren(
      ...rows.map((o) => {
        const { color } = styleOf(o);
        const alert = o.id !== undefined && inEvent.has(o.id);
        const attrs: Record<string, string> = { class: [o.target !== undefined ? 'target' : '', alert ? 'in-event' : ''].join(' ').trim() };
        if (o.id !== undefined) attrs['data-track'] = String(o.id);
        if (o.target !== undefined) attrs['data-target'] = String(o.target);
        const swatch = el('span', { class: 'swatch' });
        // Through the CSSOM: the page's CSP refuses style attributes.
        swatch.style.backgroundColor = css(color);
        const label = `${o.id === undefined ? '(new)' : `#${o.id}`} ${o.label} ${o.score.toFixed(2)} · mask ${fmt(o.maskScore, 2)}${o.target !== undefined ? ` · target ${o.target}` : ''}${o.predicted ? ' · predicted' : ''}${alert ? ' · in an open event' : ''}`;
        return el('li', attrs, swatch, label);
      }),
    );
  }

  private resize(width: number, height: number): void {
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
      this.drawn = false;
    }
    this.maskLayer.width = width;
    this.maskLayer.height = height;
    this.stage.style.aspectRatio = `${width} / ${height}`;
  }

  private scheduled = false;
  private schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      if (!this.drawn) this.draw();
    });
  }

  /** Latest frame wins: frames that came between two animation frames are not drawn. */
  private draw(): void {
    this.drawn = true;
    const { ctx, canvas } = this;
    const W = canvas.width;
    const H = canvas.height;
    // Without video: the newest JPEG frame (scaled from display to source px) with the overlay
    // of its own frame message where it is still held; else grey with the newest frame's.
    const backdrop = this.videoLive ? undefined : this.backdrop;
    if (this.videoLive) ctx.clearRect(0, 0, W, H);
    else if (backdrop) ctx.drawImage(backdrop.bitmap, 0, 0, W, H);
    else {
      ctx.fillStyle = css(BACKGROUND);
      ctx.fillRect(0, 0, W, H);
    }
    const m = (backdrop && this.recent.get(backdrop.seq)) || this.latest;
    const objects = m && m.width === W && m.height === H ? m.objects : [];
    if (objects.length > 0) {
      const layer = this.maskLayer.getContext('2d')!;
      const img = layer.createImageData(W, H);
      paintMasks(img.data, W, H, objects);
      layer.putImageData(img, 0, 0);
      ctx.drawImage(this.maskLayer, 0, 0);
    }
    const lw = Math.max(1, W / 400);
    ctx.font = `${Math.round(Math.max(10, W / 45))}px sans-serif`;
    this.zones.draw(ctx, lw, this.events.book.openZones());
    const inEvent = this.events.book.openTracks();
    ctx.textBaseline = 'bottom';
    for (const o of objects) {
      const [x1, y1, x2, y2] = o.box;
      const alert = o.id !== undefined && inEvent.has(o.id);
      const color = alert ? IN_EVENT : styleOf(o).color;
      const target = o.target !== undefined;
      ctx.strokeStyle = css(color);
      ctx.lineWidth = target || alert ? lw * 3 : lw;
      ctx.setLineDash(o.predicted ? [4 * lw, 3 * lw] : []);
      ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
      const label = `${o.id === undefined ? '' : `#${o.id} `}${o.label}${target ? ` T${o.target}` : ''}${alert ? ' !' : ''}`;
      ctx.fillStyle = css(color);
      ctx.fillText(label, x1 + 2, Math.max(ctx.measureText('M').width + 2, y1 - 2));
    }
    ctx.setLineDash([]);
    for (const [x, y] of this.background) {
      ctx.fillStyle = css(EXCLUDE);
      ctx.beginPath();
      ctx.arc(x, y, 4 * lw, 0, 2 * Math.PI);
      ctx.fill();
    }
    // Which frame the canvas shows (the browser test reads it back against that frame).
    if (m) canvas.dataset['seq'] = String(m.seq);
    this.updateList();
  }

  /** The list and the rates, at most every LIST_INTERVAL_MS; the last frame is always listed. */
  private updateList(): void {
    const due = this.lastList + LIST_INTERVAL_MS - performance.now();
    if (due <= 0) {
      this.lastList = performance.now();
      const m = this.latest;
      this.renderObjects(m && m.width === this.canvas.width && m.height === this.canvas.height ? m.objects : []);
      this.renderStats();
    } else {
      this.listTimer ??= setTimeout(() => {
        this.listTimer = undefined;
        this.updateList();
      }, due);
    }
  }

  private listenPointer(): void {
    const c = this.canvas;
    c.addEventListener('contextmenu', (e) => e.preventDefault());
    c.addEventListener('pointerdown', (e) => {
      if (this.zones.active) return;
      if (e.button !== 0 && e.button !== 2) return;
      this.down = { clientX: e.clientX, clientY: e.clientY, button: e.button, shiftKey: e.shiftKey };
      c.setPointerCapture(e.pointerId);
    });
    c.addEventListener('pointermove', (e) => {
      const d = this.down;
      if (!d || d.button !== 0) return;
      const r = c.getBoundingClientRect();
      const x = Math.min(d.clientX, e.clientX) - r.left;
      const y = Math.min(d.clientY, e.clientY) - r.top;
      this.dragBox.hidden = Math.hypot(e.clientX - d.clientX, e.clientY - d.clientY) < 6;
      Object.assign(this.dragBox.style, { left: `${x}px`, top: `${y}px`, width: `${Math.abs(e.clientX - d.clientX)}px`, height: `${Math.abs(e.clientY - d.clientY)}px` });
    });
    c.addEventListener('pointerup', (e) => {
      const d = this.down;
      this.down = undefined;
      this.dragBox.hidden = true;
      if (!d) return;
      const g = gestureOf(d, e.clientX, e.clientY, c.getBoundingClientRect(), c.width, c.height);
      if (!g) return;
      const camera = this.view.id;
      if (g.kind === 'box') return this.send(this.client.prompt({ camera, box: g.box }), `box [${g.box.map((v) => Math.round(v)).join(', ')}]`);
      if (g.label === 0) {
        this.background.push([g.x, g.y]);
        this.drawn = false;
        return this.schedule();
      }
      const points: [number, number, 0 | 1][] = [[g.x, g.y, 1], ...this.background.map(([x, y]): [number, number, 0] => [x, y, 0])];
      this.background = [];
      this.send(this.client.prompt({ camera, points }), `point (${Math.round(g.x)}, ${Math.round(g.y)})${points.length > 1 ? ` minus ${points.length - 1}` : ''}`);
    });
    c.addEventListener('pointercancel', () => {
      this.down = undefined;
      this.dragBox.hidden = true;
    });
    // Zones mode: clicks are corners, in source px through the displayed size.
    const source = (e: MouseEvent): Point => toSource(e.clientX, e.clientY, c.getBoundingClientRect(), c.width, c.height);
    c.addEventListener('click', (e) => {
      if (!this.zones.active || e.button !== 0) return;
      const r = c.getBoundingClientRect();
      this.zones.click(source(e), r.width > 0 ? (SNAP_PX * c.width) / r.width : SNAP_PX, e.shiftKey);
      this.root.focus({ preventScroll: true });
    });
    c.addEventListener('dblclick', (e) => {
      if (!this.zones.active) return;
      e.preventDefault();
      this.zones.dblclick();
    });
    c.addEventListener('pointermove', (e) => {
      if (this.zones.active) this.zones.move(source(e));
    });
    c.addEventListener('pointerleave', () => this.zones.move(undefined));
    this.root.tabIndex = 0;
    this.root.addEventListener('keydown', (e) => {
      // Keys typed in the tile's inputs are theirs.
      if (e.target !== this.root && e.target !== c) return;
      if (this.zones.active) {
        if (this.zones.key(e.key)) e.preventDefault();
        return;
      }
      if (e.key === 'Escape') {
        this.background = [];
        this.drawn = false;
        this.schedule();
      }
    });
  }

  /** Shows what a prompt or clear came to in the tile's log. */
  private send(reply: Promise<PromptOkMessage | PromptClearedMessage>, what: string): void {
    reply.then(
      (m) => {
        if (m.type === 'prompt.ok') this.event(`prompt.ok: ${what} → target ${m.target} (tracks ${m.tracks.join(', ')}, ${m.method})`);
        else this.event(`prompt.cleared: ${m.targets.length > 0 ? `targets ${m.targets.join(', ')}` : 'no targets'}`);
      },
      (err: unknown) => this.event(`prompt refused: ${what}: ${err instanceof SegstreamClientError ? `${err.code} ${err.message}` : String(err)}`),
    );
  }

  /** `target.ended` / `target.reattached` for this camera. */
  onTarget(text: string): void {
    this.event(text);
  }

}
