import { describe, expect, it } from 'vitest';
import { rng } from '../../helpers/random.js';
import { FrameAssembler } from '../../../src/ingest/frameAssembler.js';


/** A byte stream whose byte i is (i * 7 + 3) mod 256, so any misplaced byte shows. */
const streamByte = (i: number): number => (i * 7 + 3) & 0xff;

describe('FrameAssembler', () => {
  it('cuts chunks of arbitrary sizes into exact frames', () => {
    const frameBytes = 30;
    const total = frameBytes * 9 + 11;
    const r = rng(5);
    const a = new FrameAssembler(frameBytes);
    const frames: Uint8Array[] = [];
    let pos = 0;
    while (pos < total) {
      // Sizes from 0 up to a bit over two frames.
      const n = Math.min(total - pos, Math.floor(r() * 75));
      const backing = new Uint8Array(n + 8);
      const chunk = backing.subarray(4, 4 + n); // a view with a non-zero offset, as Buffers are
      for (let k = 0; k < n; k++) chunk[k] = streamByte(pos + k);
      frames.push(...a.push(chunk));
      pos += n;
    }
    expect(frames.length).toBe(9);
    frames.forEach((f, i) => {
      expect(Array.from(f)).toEqual(Array.from({ length: frameBytes }, (_, k) => streamByte(i * frameBytes + k)));
    });
    expect(a.pendingBytes).toBe(11);
  });

  it('gives every frame its own whole ArrayBuffer', () => {
    const a = new FrameAssembler(4);
    const frames = a.push(new Uint8Array(13));
    expect(frames.length).toBe(3);
    for (const f of frames) {
      expect(f.byteOffset).toBe(0);
      expect(f.byteLength).toBe(4);
      expect(f.buffer.byteLength).toBe(4);
    }
    expect(new Set(frames.map((f) => f.buffer)).size).toBe(3);
  });

  it('does not change a returned frame when more bytes arrive', () => {
    const a = new FrameAssembler(2);
    const [first] = a.push(Uint8Array.from([1, 2]));
    a.push(Uint8Array.from([9, 9, 9]));
    expect(Array.from(first!)).toEqual([1, 2]);
  });

  it('counts pending bytes and returns nothing until a frame is complete', () => {
    const a = new FrameAssembler(10);
    expect(a.push(new Uint8Array(3))).toEqual([]);
    expect(a.pendingBytes).toBe(3);
    expect(a.push(new Uint8Array(0))).toEqual([]);
    expect(a.push(new Uint8Array(7)).length).toBe(1);
    expect(a.pendingBytes).toBe(0);
  });

  it('reset drops a partial frame', () => {
    const a = new FrameAssembler(3);
    a.push(Uint8Array.from([1, 2]));
    a.reset();
    expect(a.pendingBytes).toBe(0);
    expect(Array.from(a.push(Uint8Array.from([7, 8, 9]))[0]!)).toEqual([7, 8, 9]);
  });

  it.each([0, -3, 2.5, Number.NaN])('rejects frameBytes %s with TypeError', (n) => {
    expect(() => new FrameAssembler(n)).toThrow(TypeError);
  });
});
