import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { decodeRle, type FrameMessage, type WireObject } from '../../src/client/index.js';
import { parseConfig } from '../../src/config/index.js';
import { BACKGROUND, TARGET_ALPHA, targetColor } from '../../web/colors.js';
import { launchChromium } from '../helpers/browser.js';
import { TestClient } from '../helpers/wsClient.js';
import { WebSocket } from 'ws';

const REPO = join(import.meta.dirname, '../..');
const SHARED = join(REPO, '../shared');
const MODEL = join(SHARED, 'models/yolov8n-seg-320.onnx');
const CLIP = join(SHARED, 'data/videos/urban_intersection_cctv.mp4');
const ARTIFACTS = join(REPO, 'test-artifacts');
const TOKEN = 'dashboard-test-token';

interface Canvas {
  seq: number;
  width: number;
  height: number;
  rgba: Buffer;
}

/** The overlay canvas of a tile and the seq of the frame it shows, read in one go (no redraw in between). */
async function readCanvas(page: Page, camera: string): Promise<Canvas> {
  const { seq, url } = await page.evaluate(`(() => {
    const c = document.querySelector('section.tile[data-camera="${camera}"] canvas.overlay');
    return { seq: Number(c.dataset.seq), url: c.toDataURL('image/png') };
  })()`) as { seq: number; url: string };
  const png = Buffer.from(url.slice(url.indexOf(',') + 1), 'base64');
  const { data, info } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { seq, width: info.width, height: info.height, rgba: data };
}

/** The mask pixels of an object (source px), away from its box edges, where strokes and labels go. */
function maskPixels(o: WireObject, width: number, margin = 4): [number, number][] {
  const bits = decodeRle(o.mask!);
  const [x1, y1, x2, y2] = o.box;
  const out: [number, number][] = [];
  const height = bits.length / width;
  for (let y = Math.ceil(y1 + margin); y < y2 - margin; y++) {
    for (let x = Math.ceil(x1 + margin); x < x2 - margin; x++) if (y < height && bits[y * width + x]) out.push([x, y]);
  }
  return out;
}

const px = (c: Canvas, x: number, y: number): [number, number, number] => {
  const i = (y * c.width + x) * 4;
  return [c.rgba[i]!, c.rgba[i + 1]!, c.rgba[i + 2]!];
};
const isBackground = ([r, g, b]: [number, number, number]): boolean => r === BACKGROUND[0] && g === BACKGROUND[1] && b === BACKGROUND[2];

describe('dashboard in headless Chromium (real app, model, clip)', () => {
  let app: App;
  let browser: Browser;
  let watcher: TestClient;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    // The browser modules, as `npm run build` makes them.
    execFileSync(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', join(REPO, 'tsconfig.web.json')], { stdio: 'inherit' });
    mkdirSync(ARTIFACTS, { recursive: true });
    app = await startApp(
      parseConfig({
        cameras: [{ id: 'road', url: CLIP, loop: true }],
        inference: { model: MODEL, threads: 1 },
        // WHEP off: the canvas overlay drawn from the mask stream is what these tests read back.
        server: { host: '127.0.0.1', port: 0, token: TOKEN, whep: false },
      }),
    );
    browser = await launchChromium({ webrtc: true });
    // A second client of the same stream: the frames the page draws, to check its pixels against.
    const ws = new WebSocket(`ws://127.0.0.1:${app.address.port}/ws?token=${TOKEN}`);
    watcher = new TestClient(ws);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
  });

  afterAll(async () => {
    watcher?.close();
    await browser?.close();
    await app?.close();
  });

  /** The frame message with this seq, as the watcher got it. */
  async function frameOf(seq: number): Promise<FrameMessage> {
    return (await watcher.next((m) => m.type === 'frame' && m['seq'] === seq, 10_000)) as unknown as FrameMessage;
  }

  it('asks for the token, shows the camera live with its objects, draws masks where they are, prompts by drag and clears', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
    const base = `http://127.0.0.1:${app.address.port}`;
    await page.goto(`${base}/`);

    // The page is public; it asks for the token once and keeps it for the tab.
    await page.locator('#login').waitFor({ state: 'visible' });
    await page.fill('#login input[name="token"]', TOKEN);
    await page.click('#login button[type="submit"]');
    const tile = page.locator('section.tile[data-camera="road"]');
    await tile.waitFor();
    await page.waitForSelector('section.tile[data-camera="road"][data-state="live"]', { timeout: 30_000 });
    await expect.poll(() => page.evaluate('sessionStorage.getItem("segstream.token")')).toBe(TOKEN);
    expect(await page.locator('#login').isHidden()).toBe(true);

    // Tracked objects are listed: id, label, score, maskScore.
    await page.waitForSelector('section.tile[data-camera="road"] ul.objects li[data-track]', { timeout: 30_000 });
    const row = await tile.locator('ul.objects li[data-track]').first().textContent();
    expect(row).toMatch(/^#\d+ \w[\w ]* \d\.\d\d · mask \d\.\d\d/);
    await expect.poll(() => tile.locator('[data-stat="fps"]').textContent(), { timeout: 10_000 }).toMatch(/^\d+\.\d fps$/);
    expect(await tile.locator('[data-stat="latency"]').textContent()).toMatch(/^\d+ ms latency$/);
    expect(await tile.locator('[data-stat="dropped"]').textContent()).toMatch(/^\d+ dropped$/);

    // The overlay: mask colour inside the published masks, bare background far from every box.
    let canvas = await readCanvas(page, 'road');
    let frame = await frameOf(canvas.seq);
    expect([canvas.width, canvas.height]).toEqual([frame.width, frame.height]);
    const masked = frame.objects.filter((o) => o.mask && o.area > 300);
    expect(masked.length).toBeGreaterThan(0);
    let inside = 0;
    let insideColoured = 0;
    for (const o of masked) {
      for (const [x, y] of maskPixels(o, frame.width)) {
        inside++;
        if (!isBackground(px(canvas, x, y))) insideColoured++;
      }
    }
    expect(insideColoured / inside).toBeGreaterThan(0.98);
    let outside = 0;
    let outsideBare = 0;
    // Away from every box and from its label, which starts at the box's top left and may be wider than the box.
    const labelRight = (o: WireObject): number => o.box[0] + 10 * `#${o.id ?? ''} ${o.label} T${o.target ?? ''}`.length;
    const far = (x: number, y: number): boolean =>
      frame.objects.every((o) => x < o.box[0] - 30 || x > Math.max(o.box[2], labelRight(o)) + 30 || y < o.box[1] - 40 || y > o.box[3] + 30);
    for (let y = 0; y < frame.height; y += 4) {
      for (let x = 0; x < frame.width; x += 4) {
        if (!far(x, y)) continue;
        outside++;
        if (isBackground(px(canvas, x, y))) outsideBare++;
      }
    }
    expect(outside).toBeGreaterThan(1000);
    expect(outsideBare).toBe(outside);

    // A drag around a tracked car makes it a target: prompt.ok, the list and the overlay show it.
    const latest = (await watcher.frames(1, 'road'))[0]!;
    const car = latest.objects.filter((o) => o.id !== undefined && !o.predicted && (o.label === 'car' || o.label === 'truck')).sort((a, b) => b.area - a.area)[0];
    expect(car, 'a tracked car in the frame').toBeDefined();
    const bb = (await tile.locator('canvas.overlay').boundingBox())!;
    const toPage = (x: number, y: number): [number, number] => [bb.x + (x * bb.width) / latest.width, bb.y + (y * bb.height) / latest.height];
    const [ax, ay] = toPage(Math.max(0, car!.box[0] - 3), Math.max(0, car!.box[1] - 3));
    const [bx, by] = toPage(Math.min(latest.width, car!.box[2] + 3), Math.min(latest.height, car!.box[3] + 3));
    await page.mouse.move(ax, ay);
    await page.mouse.down();
    await page.mouse.move((ax + bx) / 2, (ay + by) / 2, { steps: 4 });
    await page.mouse.move(bx, by, { steps: 4 });
    await page.mouse.up();
    await page.waitForSelector('section.tile[data-camera="road"] ol.events li:has-text("prompt.ok")', { timeout: 10_000 });
    const ok = await tile.locator('ol.events li', { hasText: 'prompt.ok' }).first().textContent();
    const target = Number(/→ target (\d+)/.exec(ok ?? '')?.[1]);
    expect(ok).toMatch(/box \[.*\] → target \d+ \(tracks [\d, ]+, box\)/);
    await page.waitForSelector(`section.tile[data-camera="road"] ul.objects li.target[data-target="${target}"]`, { timeout: 10_000 });
    // Its colour in the list is the target's colour.
    const [tr, tg, tb] = targetColor(target);
    const swatch = await page.evaluate(`getComputedStyle(document.querySelector('section.tile[data-camera="road"] ul.objects li[data-target="${target}"] .swatch')).backgroundColor`);
    expect(swatch).toBe(`rgb(${tr}, ${tg}, ${tb})`);
    // In the overlay its mask is drawn in the target colour over the background.
    let highlighted: { share: number } | undefined;
    for (let tries = 0; tries < 20 && !highlighted; tries++) {
      canvas = await readCanvas(page, 'road');
      frame = await frameOf(canvas.seq);
      const o = frame.objects.find((x) => x.target === target && x.mask && x.area > 100);
      if (!o) continue;
      const a = Math.round(TARGET_ALPHA * 255) / 255;
      const want = targetColor(target).map((c, i) => a * c + (1 - a) * BACKGROUND[i]!);
      const pixels = maskPixels(o, frame.width);
      const close = pixels.filter(([x, y]) => px(canvas, x, y).every((v, i) => Math.abs(v - want[i]!) <= 4)).length;
      highlighted = { share: close / pixels.length };
    }
    expect(highlighted, 'a frame with the target drawn').toBeDefined();
    expect(highlighted!.share).toBeGreaterThan(0.8);
    const shot = join(ARTIFACTS, 'dashboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`dashboard screenshot: ${shot}`);

    // Clearing ends the target: prompt.cleared, and the following frames list no target.
    await tile.locator('button.clear').click();
    await page.waitForSelector('section.tile[data-camera="road"] ol.events li:has-text("prompt.cleared")', { timeout: 10_000 });
    expect(await tile.locator('ol.events li', { hasText: 'prompt.cleared' }).first().textContent()).toContain(`targets ${target}`);
    await expect.poll(() => tile.locator('ul.objects li[data-target]').count(), { timeout: 5000 }).toBe(0);
    expect(await tile.locator('ul.objects li[data-track]').count()).toBeGreaterThan(0);

    // A reload keeps the token for the tab: no question, straight back to live.
    await page.reload();
    await page.waitForSelector('section.tile[data-camera="road"][data-state="live"]', { timeout: 30_000 });
    expect(await page.locator('#login').isHidden()).toBe(true);
    expect(consoleErrors).toEqual([]);
    await context.close();
  });

  it('falls back to the canvas overlay when WHEP is asked for (?whep=1) but the server has none', async () => {
    const context = await browser.newContext();
    // The token kept from an earlier visit in this tab.
    await context.addInitScript(`sessionStorage.setItem('segstream.token', '${TOKEN}')`);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    await page.goto(`http://127.0.0.1:${app.address.port}/?whep=1`);
    const tile = page.locator('section.tile[data-camera="road"]');
    await page.waitForSelector('section.tile[data-camera="road"][data-state="live"]', { timeout: 30_000 });
    await expect.poll(() => tile.locator('[data-stat="video"]').textContent(), { timeout: 10_000 }).toBe('video: unavailable (E_WHEP), overlay only');
    expect(await tile.locator('ol.events li', { hasText: 'video unavailable' }).first().textContent()).toContain('HTTP 404');
    await page.waitForSelector('section.tile[data-camera="road"] ul.objects li[data-track]', { timeout: 30_000 });
    expect((await tile.getAttribute('class'))!.split(' ')).not.toContain('has-video');
    // The browser reports the refused POST itself; nothing else went wrong.
    expect(errors.filter((e) => !/404/.test(e))).toEqual([]);
    expect(await page.locator('#login').isHidden()).toBe(true);
    await context.close();
  });

  it('watchWhep plays a WebRTC video in Chromium: recvonly offer with its candidates, 201 + answer + Location, frames decoded, DELETE on stop', async () => {
    // Until the server speaks WHEP (issue 9, part 2), a second peer in the page answers the
    // offer through watchWhep's fetch, sending a canvas stream: real negotiation, real decoding.
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`http://127.0.0.1:${app.address.port}/`);
    const result = (await page.evaluate(`(async () => {
      const { watchWhep } = await import('/assets/src/client/index.js');
      const source = document.createElement('canvas');
      source.width = 320;
      source.height = 240;
      const g = source.getContext('2d');
      let n = 0;
      const paint = setInterval(() => { g.fillStyle = n++ % 2 ? '#c33' : '#3c3'; g.fillRect(0, 0, 320, 240); }, 40);
      const stream = source.captureStream(25);
      const calls = [];
      let server;
      const fetch = async (url, init) => {
        calls.push({ url, method: init.method, headers: init.headers, offer: init.body });
        if (init.method === 'POST') {
          server = new RTCPeerConnection();
          for (const t of stream.getTracks()) server.addTrack(t, stream);
          await server.setRemoteDescription({ type: 'offer', sdp: init.body });
          await server.setLocalDescription(await server.createAnswer());
          await new Promise((r) => { if (server.iceGatheringState === 'complete') r(); else server.onicegatheringstatechange = () => server.iceGatheringState === 'complete' && r(); });
          const headers = { location: '/whep/road/session-1' };
          return { status: 201, headers: { get: (k) => headers[k.toLowerCase()] ?? null }, text: async () => server.localDescription.sdp };
        }
        return { status: 200, headers: { get: () => null }, text: async () => '' };
      };
      const video = document.createElement('video');
      document.body.append(video);
      const states = [];
      const session = await watchWhep('road', video, { token: 'tok', fetch, onState: (s) => states.push(s) });
      const t0 = Date.now();
      while (!(video.videoWidth > 0 && video.getVideoPlaybackQuality().totalVideoFrames >= 10) && Date.now() - t0 < 15000) await new Promise((r) => setTimeout(r, 100));
      const out = { width: video.videoWidth, frames: video.getVideoPlaybackQuality().totalVideoFrames, states, location: session.location };
      await session.stop();
      out.afterStop = { srcObject: video.srcObject, pc: session.pc.connectionState };
      clearInterval(paint);
      server.close();
      out.calls = calls.map((c) => ({ url: c.url, method: c.method, headers: c.headers, recvonly: /a=recvonly/.test(c.offer ?? ''), candidates: (c.offer ?? '').split('a=candidate:').length - 1, video: /m=video /.test(c.offer ?? '') }));
      return out;
    })()`)) as { width: number; frames: number; states: string[]; location: string; afterStop: { srcObject: unknown; pc: string }; calls: { url: string; method: string; headers: Record<string, string>; recvonly: boolean; candidates: number; video: boolean }[] };
    const base = `http://127.0.0.1:${app.address.port}`;
    expect(result.width).toBe(320);
    expect(result.frames).toBeGreaterThanOrEqual(10);
    expect(result.states).toContain('connected');
    expect(result.location).toBe(`${base}/whep/road/session-1`);
    expect(result.calls[0]).toMatchObject({ url: `${base}/whep/road`, method: 'POST', recvonly: true, video: true, headers: { 'content-type': 'application/sdp', authorization: 'Bearer tok' } });
    expect(result.calls[0]!.candidates).toBeGreaterThan(0);
    expect(result.calls[1]).toMatchObject({ url: `${base}/whep/road/session-1`, method: 'DELETE', headers: { authorization: 'Bearer tok' } });
    expect(result.calls).toHaveLength(2);
    expect(result.afterStop).toEqual({ srcObject: null, pc: 'closed' });
    expect(errors).toEqual([]);
    await context.close();
  });
});

describe('dashboard with the WHEP video and the JPEG frames (real app, wrtc, headless Chromium)', () => {
  let app: App;
  let browser: Browser;

  beforeAll(async () => {
    execFileSync(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', join(REPO, 'tsconfig.web.json')], { stdio: 'inherit' });
    app = await startApp(
      parseConfig({
        cameras: [{ id: 'road', url: CLIP, loop: true }],
        inference: { model: MODEL, threads: 1 },
        server: { host: '127.0.0.1', port: 0 },
      }),
    );
    browser = await launchChromium({ webrtc: true });
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  /** A fresh page on `path`, with every console error and page error it reports. */
  async function open(path: string): Promise<{ page: Page; errors: string[]; close(): Promise<void> }> {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    await page.goto(`http://127.0.0.1:${app.address.port}${path}`);
    return { page, errors, close: () => context.close() };
  }

  it('plays each camera as WebRTC video with the overlay burned in (decoded frames, videoWidth > 0), the canvas on top for prompts', async () => {
    const { page, errors, close } = await open('/');
    try {
      await page.waitForSelector('section.tile[data-camera="road"].has-video', { timeout: 30_000 });
      const video = page.locator('section.tile[data-camera="road"] video');
      await expect.poll(() => video.evaluate((v) => (v as unknown as { videoWidth: number }).videoWidth), { timeout: 20_000 }).toBeGreaterThan(0);
      // Frames keep being decoded: the playback position moves on.
      const t0 = await video.evaluate((v) => (v as unknown as { currentTime: number }).currentTime);
      await expect.poll(() => video.evaluate((v) => (v as unknown as { currentTime: number }).currentTime), { timeout: 10_000 }).toBeGreaterThan(t0);
      await page.screenshot({ path: join(REPO, 'test-artifacts/dashboard-whep.png') });
      expect(errors).toEqual([]);
      expect(Number(/segstream_whep_sessions (\d+)/.exec(await (await fetch(`http://127.0.0.1:${app.address.port}/metrics`)).text())?.[1])).toBe(1);
    } finally {
      await close();
    }
  });

  it('without WebRTC (?whep=0) the tile shows the JPEG frames of the WebSocket under the canvas overlay', async () => {
    const { page, errors, close } = await open('/?whep=0');
    try {
      const stat = page.locator('section.tile[data-camera="road"] [data-stat="video"]');
      await expect.poll(() => stat.textContent(), { timeout: 30_000 }).toContain('JPEG');
      await page.waitForTimeout(500);
      const canvas = await readCanvas(page, 'road');
      // The picture, not grey: most pixels are not the background colour, and they vary.
      let grey = 0;
      let n = 0;
      const lumas = new Set<number>();
      for (let y = 0; y < canvas.height; y += 7) {
        for (let x = 0; x < canvas.width; x += 7) {
          const p = px(canvas, x, y);
          if (isBackground(p)) grey++;
          lumas.add(Math.round((p[0] + p[1] + p[2]) / 3));
          n++;
        }
      }
      expect(grey / n).toBeLessThan(0.1);
      expect(lumas.size).toBeGreaterThan(50);
      expect(Number.isFinite(canvas.seq)).toBe(true);
      expect(await page.locator('section.tile[data-camera="road"].has-video').count()).toBe(0);
      await page.screenshot({ path: join(REPO, 'test-artifacts/dashboard-jpeg.png') });
      expect(errors).toEqual([]);
      const metrics = await (await fetch(`http://127.0.0.1:${app.address.port}/metrics`)).text();
      expect(metrics).toMatch(/segstream_jpeg_frames_encoded_total\{camera="road",overlay="false"\} [1-9]/);
    } finally {
      await close();
    }
  });
});
