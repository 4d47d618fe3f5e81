import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config/index.js';
import { launchChromium } from '../helpers/browser.js';

const REPO = join(import.meta.dirname, '../..');
const SHARED = join(REPO, '../shared');
const MODEL = join(SHARED, 'models/yolov8n-seg-320.onnx');
// 640x480, 30 fps, 30 s: an intersection with cars most of the time.
const CLIP = join(SHARED, 'data/videos/urban_intersection_cctv.mp4');
const ARTIFACTS = join(REPO, 'test-artifacts');
const TOKEN = 'dashboard-events-token';
const TILE = 'section.tile[data-camera="road"]';

interface Shown {
  /** The canvas on the page, page px. */
  x: number;
  y: number;
  width: number;
  height: number;
  /** The source frame's size (the canvas's own size). */
  frameWidth: number;
  frameHeight: number;
}

async function overlay(page: Page): Promise<Shown> {
  const canvas = page.locator(`${TILE} canvas.overlay`);
  const bb = (await canvas.boundingBox())!;
  const [frameWidth, frameHeight] = (await canvas.evaluate((c) => [(c as unknown as { width: number }).width, (c as unknown as { height: number }).height])) as [number, number];
  return { ...bb, frameWidth, frameHeight };
}

/** A source-frame point to page px, as shown now. */
const toPage = (s: Shown, [x, y]: readonly [number, number]): [number, number] => [s.x + (x * s.width) / s.frameWidth, s.y + (y * s.height) / s.frameHeight];

/** Draws a zone by clicks on the overlay: every corner clicked, the last double-clicked (closes). */
async function drawZone(page: Page, corners: readonly (readonly [number, number])[]): Promise<void> {
  const s = await overlay(page);
  for (const [i, c] of corners.entries()) {
    const [x, y] = toPage(s, c);
    if (i === corners.length - 1) await page.mouse.dblclick(x, y);
    else await page.mouse.click(x, y);
  }
  await page.locator(`${TILE} form.zone-new`).waitFor({ state: 'visible' });
}

describe('dashboard zones, live events and history in headless Chromium (real app, model, clip, event history)', () => {
  let app: App;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    execFileSync(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', join(REPO, 'tsconfig.web.json')], { stdio: 'inherit' });
    mkdirSync(ARTIFACTS, { recursive: true });
    app = await startApp(
      parseConfig({
        cameras: [{ id: 'road', url: CLIP, loop: true }],
        inference: { model: MODEL, threads: 1 },
        server: { host: '127.0.0.1', port: 0, token: TOKEN, whep: false },
      }),
    );
    base = `http://127.0.0.1:${app.address.port}`;
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('draws a zone with mouse clicks and saves it (source px); a refused save shows the server\'s message; a presence event shows live, then in the history with its snapshot', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    await context.addInitScript(`sessionStorage.setItem('segstream.token', '${TOKEN}')`);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    await page.goto(`${base}/`);
    const tile = page.locator(TILE);
    await page.waitForSelector(`${TILE}[data-state="live"]`, { timeout: 30_000 });
    // A frame drawn: the canvas has the source frame's size.
    await page.waitForSelector(`${TILE} canvas.overlay[data-seq]`, { timeout: 30_000 });
    await expect.poll(() => tile.locator('.zones-status').textContent(), { timeout: 10_000 }).toBe('no zones');

    await tile.locator('button.zones-toggle').click();
    expect(await tile.locator('button.zones-toggle').getAttribute('aria-pressed')).toBe('true');

    // First a zone the server refuses (more classes than it takes): its message is shown; the zone is deleted again.
    await drawZone(page, [[100, 100], [300, 100], [300, 300]]);
    await tile.locator('input[name="rule-classes"]').fill(Array.from({ length: 129 }, (_, i) => `c${i}`).join(','));
    await tile.locator('form.zone-new button[type="submit"]').click();
    await tile.locator('button.zones-save').click();
    await expect.poll(() => tile.locator('.zones-status').textContent(), { timeout: 10_000 }).toMatch(/^not saved: .*classes.*\(E_CONFIG\)$/);
    await tile.locator('ul.zone-list li[data-zone="zone 1"] button.delete').click();
    expect(await tile.locator('ul.zone-list li').count()).toBe(0);

    // The zone over the road: four corners in source px, clicked where the tile shows them.
    const corners = [[20, 40], [620, 40], [620, 460], [20, 460]] as const;
    await drawZone(page, corners);
    // The form's defaults: presence of car, truck, bus for 1 s.
    expect(await tile.locator('select[name="rule-kind"]').inputValue()).toBe('presence');
    expect(await tile.locator('input[name="rule-classes"]').inputValue()).toBe('car, truck, bus');
    expect(await tile.locator('input[name="rule-seconds"]').inputValue()).toBe('1');
    await tile.locator('input[name="zone-name"]').fill('road');
    await tile.locator('input[name="zone-name"]').press('Enter');
    await tile.locator('ul.zone-list li[data-zone="road"]').waitFor();
    await tile.locator('button.zones-save').click();
    await expect.poll(() => tile.locator('.zones-status').textContent(), { timeout: 10_000 }).toBe('saved 1 zone');
    await tile.locator('button.zones-toggle').click();

    const res = await fetch(`${base}/api/cameras/road/zones`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    const { zones } = (await res.json()) as { zones: { name: string; polygon: [number, number][]; rules: unknown[] }[] };
    expect(zones).toHaveLength(1);
    expect(zones[0]!.name).toBe('road');
    expect(zones[0]!.rules).toEqual([{ kind: 'presence', classes: ['car', 'truck', 'bus'], seconds: 1 }]);
    expect(zones[0]!.polygon).toHaveLength(4);
    zones[0]!.polygon.forEach(([x, y], i) => {
      expect(Math.abs(x - corners[i]![0]), `corner ${i} x`).toBeLessThanOrEqual(2);
      expect(Math.abs(y - corners[i]![1]), `corner ${i} y`).toBeLessThanOrEqual(2);
    });

    // A car in the zone for 1 s: the event shows in the tile's panel, the zone and its object highlighted.
    const live = tile.locator('ul.live-events li.open[data-zone="road"][data-kind="presence"]').first();
    await live.waitFor({ timeout: 60_000 });
    expect(await live.textContent()).toMatch(/^presence · zone road · (car|truck|bus)(, \w+)* · since /);
    await expect.poll(() => tile.locator('ul.objects li.in-event').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-events.png'), fullPage: true });

    // The history lists it, newest first, with its snapshot loaded (asked again until the snapshot is stored).
    await page.locator('#tab-history').click();
    const row = page.locator('ol.history li[data-kind="presence"]').first();
    await row.waitFor({ timeout: 10_000 });
    const thumb = page.locator('ol.history li[data-kind="presence"] .thumb img').first();
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && (await thumb.count()) === 0) {
      await page.waitForTimeout(1000);
      await page.locator('form.history-filters button[type="submit"]').click();
      await page.waitForTimeout(500);
    }
    await expect.poll(() => thumb.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth), { timeout: 10_000 }).toBeGreaterThan(0);
    expect(await page.locator('ol.history li[data-kind="presence"]').first().textContent()).toMatch(/presence · road · zone road · (car|truck|bus)/);
    // Filtered by kind and zone: still there; another zone: none.
    await page.locator('form.history-filters input[name="zone"]').fill('nowhere');
    await page.locator('form.history-filters button[type="submit"]').click();
    await expect.poll(() => page.locator('.history-status').textContent(), { timeout: 10_000 }).toBe('no events');
    await page.locator('form.history-filters input[name="zone"]').fill('road');
    await page.locator('form.history-filters select[name="kind"]').selectOption('presence');
    await page.locator('form.history-filters button[type="submit"]').click();
    await row.waitFor({ timeout: 10_000 });
    // Click to enlarge: the dialog shows the snapshot.
    await page.locator('ol.history li[data-kind="presence"] button.enlarge').first().click();
    const big = page.locator('dialog.snapshot[open] img');
    await expect.poll(() => big.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth), { timeout: 5000 }).toBeGreaterThan(0);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-history.png'), fullPage: true });
    await page.keyboard.press('Escape');
    await expect.poll(() => page.locator('dialog.snapshot[open]').count()).toBe(0);

    // The browser reports the refused PUT itself; nothing else went wrong.
    expect(errors.filter((e) => !/status of 400/.test(e))).toEqual([]);
    await context.close();
  });
});
