import { connect, type CameraView, type SegstreamClient } from '../src/client/index.js';
import { Api } from './api.js';
import { HistoryView } from './historyView.js';
import { CameraTile } from './tile.js';

/** The access token is kept for this tab only (sessionStorage), never in the URL of the page. */
const TOKEN_KEY = 'segstream.token';
/** JPEG frames a second per camera when a tile falls back to them (no WebRTC). */
const JPEG_FPS = 10;
/** Failed reconnects after which the token is checked again (it may have changed on the server). */
const RECHECK_AFTER_ATTEMPTS = 3;

const $ = <T extends HTMLElement>(sel: string): T => document.querySelector<T>(sel)!;

/** Whether the server wants a token: the server fills in this meta tag when it serves the page. */
function tokenRequired(): boolean {
  return document.querySelector<HTMLMetaElement>('meta[name="segstream-auth"]')?.content === 'token';
}

/** 200 from an endpoint behind the token check: the token is right. */
async function tokenWorks(token: string): Promise<boolean> {
  const res = await fetch('/api/cameras', { headers: { authorization: `Bearer ${token}` }, cache: 'no-store' });
  return res.status !== 401;
}

/** Asks for the token (once per tab): resolves with a token the server accepts. */
function askToken(message?: string): Promise<string> {
  const form = $<HTMLFormElement>('#login');
  const input = form.querySelector<HTMLInputElement>('input[name="token"]')!;
  const note = form.querySelector<HTMLElement>('.note')!;
  note.textContent = message ?? '';
  form.hidden = false;
  input.focus();
  return new Promise((resolve) => {
    const onSubmit = async (e: Event): Promise<void> => {
      e.preventDefault();
      const token = input.value.trim();
      if (!token) return;
      note.textContent = 'checking…';
      if (!(await tokenWorks(token).catch(() => false))) {
        note.textContent = 'the server refused this token';
        return;
      }
      form.removeEventListener('submit', listener);
      form.hidden = true;
      input.value = '';
      sessionStorage.setItem(TOKEN_KEY, token);
      resolve(token);
    };
    const listener = (e: Event): void => void onSubmit(e);
    form.addEventListener('submit', listener);
  });
}

async function getToken(): Promise<string | undefined> {
  if (!tokenRequired()) return undefined;
  const kept = sessionStorage.getItem(TOKEN_KEY);
  if (kept !== null) return kept;
  return askToken();
}

/** WHEP when the server says it offers it (hello), or when asked with `?whep=1`; `?whep=0` turns it off. */
function wantVideo(client: SegstreamClient): boolean {
  const flag = new URLSearchParams(location.search).get('whep');
  if (flag !== null) return flag === '1';
  return client.hello?.offers?.whep === true;
}

/** The Live and History tabs (arrow keys move between them, as tabs do). */
function setUpTabs(onHistory: () => void): void {
  const tabs = [...document.querySelectorAll<HTMLButtonElement>('nav.tabs [role="tab"]')];
  const select = (tab: HTMLButtonElement): void => {
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute('aria-selected', String(on));
      t.tabIndex = on ? 0 : -1;
      document.getElementById(t.getAttribute('aria-controls')!)!.hidden = !on;
    }
    if (tab.id === 'tab-history') onHistory();
  };
  for (const [i, tab] of tabs.entries()) {
    tab.addEventListener('click', () => select(tab));
    tab.addEventListener('keydown', (e) => {
      const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
      if (!step) return;
      const next = tabs[(i + step + tabs.length) % tabs.length]!;
      next.focus();
      select(next);
    });
  }
}

/** What opening the History tab does: set by each start (a new token, a new view). */
let onHistoryTab = (): void => {};

function start(token: string | undefined): SegstreamClient {
  const grid = $<HTMLElement>('#grid');
  const api = new Api(token);
  const historyRoot = $<HTMLElement>('#history');
  historyRoot.replaceChildren();
  const history = new HistoryView(historyRoot, api);
  let searched = false;
  // The first look at the tab lists the newest events; later ones keep what is shown.
  onHistoryTab = () => {
    if (searched) return;
    searched = true;
    void history.search();
  };
  if (!historyRoot.hidden) onHistoryTab();
  const banner = $<HTMLElement>('#connection');
  const empty = $<HTMLElement>('#empty');
  const tiles = new Map<string, CameraTile>();
  const client = connect({ url: location.origin, ...(token === undefined ? {} : { token }) });

  const add = (view: CameraView): CameraTile => {
    let tile = tiles.get(view.id);
    if (tile) {
      tile.onView(view);
      return tile;
    }
    tile = new CameraTile(view, client, token, api);
    tile.onNeedsJpeg = () => updateJpeg();
    tiles.set(view.id, tile);
    grid.append(tile.root);
    tile.onConnection(client.state === 'open' ? 'open' : 'connecting');
    if (wantVideo(client)) void tile.startVideo();
    return tile;
  };
  const remove = (id: string): void => {
    tiles.get(id)?.close();
    tiles.delete(id);
    updateJpeg();
  };
  // Without WebRTC (blocked UDP, no WHEP): clean JPEG frames over the WebSocket under the
  // canvas overlay, asked for while some tile has no live video (the subscription covers every
  // camera; tiles with video ignore theirs).
  let jpegOn = false;
  const updateJpeg = (): void => {
    const want = client.hello?.offers?.jpeg === true && [...tiles.values()].some((t) => t.needsJpeg);
    if (want === jpegOn) return;
    jpegOn = want;
    client.subscribe('*', { jpeg: want ? { fps: JPEG_FPS, overlay: false } : null }).catch(() => {
      jpegOn = !want;
    });
  };
  const showEmpty = (): void => {
    empty.hidden = tiles.size > 0;
    history.setCameras([...tiles.keys()]);
  };

  client.on('hello', (hello) => {
    const ids = new Set(hello.cameras.map((c) => c.id));
    for (const id of [...tiles.keys()]) if (!ids.has(id)) remove(id);
    for (const c of hello.cameras) add(c);
    updateJpeg();
    $<HTMLElement>('#model').textContent = `${hello.model.file} · ${hello.model.classes.length} classes`;
    showEmpty();
  });
  client.on('frame', (m) => tiles.get(m.camera)?.onFrame(m));
  client.on('jpeg', (f) => tiles.get(f.header.camera)?.onJpeg(f));
  client.on('event', (m) => tiles.get(m.camera)?.onEvent(m));
  client.on('status', (m) => {
    if (m.state === 'removed') remove(m.camera);
    else (tiles.get(m.camera) ?? add({ id: m.camera, state: m.state })).onStatus(m);
    showEmpty();
  });
  client.on('target.ended', (m) => tiles.get(m.camera)?.onTarget(`target ${m.target} ended (${m.reason})`));
  client.on('target.reattached', (m) => tiles.get(m.camera)?.onTarget(`target ${m.target} moved from track ${m.from} to ${m.to}`));
  client.on('state', (s) => {
    banner.dataset['state'] = s.state;
    banner.textContent =
      s.state === 'open' ? 'connected' : s.state === 'reconnecting' ? `connection lost (${s.code ?? '?'}), reconnecting in ${((s.delayMs ?? 0) / 1000).toFixed(1)} s (attempt ${s.attempt})` : s.state;
    const note = s.state === 'reconnecting' && s.attempt === 1 ? 'connection lost, reconnecting' : s.state === 'open' ? 'connected' : undefined;
    for (const t of tiles.values()) t.onConnection(s.state, note);
    if (s.state === 'reconnecting' && token !== undefined && s.attempt === RECHECK_AFTER_ATTEMPTS) {
      // A browser cannot see why a WebSocket upgrade failed: ask the API whether it is the token.
      void tokenWorks(token).then((ok) => {
        if (ok) return;
        sessionStorage.removeItem(TOKEN_KEY);
        client.close();
        for (const id of [...tiles.keys()]) remove(id);
        void askToken('the server no longer accepts the token').then(start);
      }, () => {});
    }
  });
  addEventListener('pagehide', () => {
    for (const t of tiles.values()) t.close();
    client.close();
  });
  return client;
}

setUpTabs(() => onHistoryTab());
void getToken().then(start);
