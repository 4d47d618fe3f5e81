import { describe, expect, it } from 'vitest';
import { RateGate } from '../../../src/core/index.js';
import { decodeJpegMessage, encodeJpegMessage, jpegOptionsSchema, subscribeMessageSchema, type JpegHeader } from '../../../src/protocol/index.js';

const HEADER: JpegHeader = { type: 'jpeg', camera: 'cam0', seq: 7, pts: 233, timestamp: 1_700_000_000_123.5, width: 640, height: 480, overlay: true };

describe('binary JPEG messages', () => {
  it('are a 4-byte big-endian header length, the UTF-8 JSON header, the JPEG bytes', () => {
    const jpeg = Uint8Array.from([0xff, 0xd8, 9, 0xff, 0xd9]);
    const msg = encodeJpegMessage(HEADER, jpeg);
    const json = JSON.stringify(HEADER);
    expect(new DataView(msg.buffer).getUint32(0, false)).toBe(json.length);
    expect(new TextDecoder().decode(msg.subarray(4, 4 + json.length))).toBe(json);
    expect([...msg.subarray(4 + json.length)]).toEqual([...jpeg]);
    const back = decodeJpegMessage(msg);
    expect(back.header).toEqual(HEADER);
    expect([...back.jpeg]).toEqual([...jpeg]);
  });

  it('refuses what is not one', () => {
    expect(() => decodeJpegMessage(new Uint8Array(2))).toThrow(TypeError);
    const bad = encodeJpegMessage(HEADER, new Uint8Array(1));
    new DataView(bad.buffer).setUint32(0, 1 << 20, false);
    expect(() => decodeJpegMessage(bad)).toThrow(/does not fit/);
    expect(() => decodeJpegMessage(encodeJpegMessage({ ...HEADER, type: 'frame' } as never, new Uint8Array(1)))).toThrow(/type/);
    expect(() => decodeJpegMessage(encodeJpegMessage({ ...HEADER, extra: 1 } as never, new Uint8Array(1)))).toThrow(TypeError);
  });

  it('subscribe jpeg: fps 0.2..30 and overlay required, nothing else', () => {
    expect(jpegOptionsSchema.safeParse({ fps: 0.2, overlay: false }).success).toBe(true);
    expect(jpegOptionsSchema.safeParse({ fps: 30, overlay: true }).success).toBe(true);
    for (const bad of [{ fps: 0.19, overlay: true }, { fps: 30.5, overlay: true }, { fps: 5 }, { overlay: true }, { fps: 5, overlay: true, q: 1 }, { fps: Number.NaN, overlay: true }]) {
      expect(jpegOptionsSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
    expect(subscribeMessageSchema.parse({ type: 'subscribe', jpeg: { fps: 2, overlay: true } }).jpeg).toEqual({ fps: 2, overlay: true });
  });
});

describe('RateGate', () => {
  const count = (intervalMs: number, periodMs: number, n: number, gate = new RateGate()): number => {
    let passed = 0;
    for (let i = 0; i < n; i++) if (gate.admit(i * periodMs, intervalMs)) passed++;
    return passed;
  };
  it('lets through about one event per interval, never more than T / interval + 2', () => {
    // 30 fps for 10 s.
    for (const fps of [0.2, 1, 2, 5, 7, 10, 15, 30]) {
      const passed = count(1000 / fps, 1000 / 30, 300);
      expect(passed, `fps ${fps}`).toBeLessThanOrEqual(10 * fps + 2);
      expect(passed, `fps ${fps}`).toBeGreaterThanOrEqual(Math.floor(10 * fps * 0.85));
    }
  });
  it('starts again after a gap or when time goes back, without a burst', () => {
    const g = new RateGate();
    expect(g.admit(0, 100)).toBe(true);
    expect(g.admit(10, 100)).toBe(false);
    expect(g.admit(10_000, 100)).toBe(true);
    expect(g.admit(10_040, 100)).toBe(false);
    expect(g.admit(10_100, 100)).toBe(true);
    expect(g.admit(5, 100)).toBe(true);
  });
});
