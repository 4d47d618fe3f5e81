import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { decodeRle, type FrameMessage, type WireObject } from '../../src/client/index.js';
import { parseConfig } from '../../src/config/index.js';
import { BACKGROUND, TARGET_ALPHA, targetColor } from '../../web/colors.js';
import { TestClient } from '../helpers/wsClient.js';
import { WebSocket } from 'ws';

const REPO = join(import.meta.dirname, '../..');
const SHARED = join(REPO, '../shared');
const MODEL = join(SHARED, 'models/yolov8n-seg-320.onnx');
const CLIP = join(SHARED, 'data/videos/urban_intersection_cctv.mp4');
const ARTIFACTS = join(REPO, 'test-artifacts');
const TOKEN = 'dashboard-test-token';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--allow-loopback-in-peer-connection',
];

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
        server: { host: '127.0.0.1', port: 0, token: TOKEN },
      }),
    );
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
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
    const far = (x: number, y: number): boolean => frame.objects.every((o) => x < o.box[0] - 30 || x > o.box[2] + 30 || y < o.box[1] - 40 || y > o.box[3] + 30);
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
});
