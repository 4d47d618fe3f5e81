import { describe, expect, it } from 'vitest';
import { Detections } from '../../../src/core/index.js';
import { checkI420, classColour, drawScene, drawText, fillRect, rgbToYuv, sceneOf, strokeRect, targetColour, textWidth, tintMask, type I420Image } from '../../../src/overlay/index.js';

/** A grey I420 picture (Y 100, U = V = 128). */
function grey(w: number, h: number): I420Image {
  const data = new Uint8Array(w * h * 1.5).fill(128);
  data.fill(100, 0, w * h);
  return { width: w, height: h, data };
}
const Y = (img: I420Image, x: number, y: number): number => img.data[y * img.width + x]!;
const U = (img: I420Image, x: number, y: number): number => img.data[img.width * img.height + (y >> 1) * (img.width >> 1) + (x >> 1)]!;
const V = (img: I420Image, x: number, y: number): number => img.data[img.width * img.height * 1.25 + (y >> 1) * (img.width >> 1) + (x >> 1)]!;

describe('I420 drawing', () => {
  it('rgbToYuv gives limited-range BT.601 (white 235, black 16, red 81/90/240)', () => {
    expect(rgbToYuv(255, 255, 255)).toEqual({ y: 235, u: 128, v: 128 });
    expect(rgbToYuv(0, 0, 0)).toEqual({ y: 16, u: 128, v: 128 });
    expect(rgbToYuv(255, 0, 0)).toEqual({ y: 81, u: 90, v: 240 });
  });

  it('fillRect writes Y inside the rectangle only, chroma on the 2x2 blocks it touches, clipped to the picture', () => {
    const img = grey(8, 8);
    const c = { y: 200, u: 50, v: 60 };
    fillRect(img, 2, 2, 4, 4, c);
    expect([Y(img, 2, 2), Y(img, 3, 3), Y(img, 4, 4), Y(img, 1, 2)]).toEqual([200, 200, 100, 100]);
    expect([U(img, 2, 2), V(img, 3, 3), U(img, 4, 4)]).toEqual([50, 60, 128]);
    fillRect(img, -5, -5, 100, 1, c);
    expect(Y(img, 7, 0)).toBe(200);
    checkI420(img);
  });

  it('strokeRect draws the outline and leaves the inside alone', () => {
    const img = grey(16, 16);
    strokeRect(img, 2, 2, 12, 12, 2, { y: 30, u: 128, v: 128 });
    expect([Y(img, 2, 2), Y(img, 3, 7), Y(img, 11, 7), Y(img, 7, 11), Y(img, 7, 7), Y(img, 12, 12)]).toEqual([30, 30, 30, 30, 100, 100]);
  });

  it('tintMask blends exactly the mask scaled to the display (nearest source pixel), not the rest of its box', () => {
    // Source 4x4, display 8x8 (2x): the mask covers source pixel (1, 1) only.
    const img = grey(8, 8);
    const mask = { x: 1, y: 1, width: 2, height: 2, data: new Uint8Array([1, 0, 0, 0]) };
    tintMask(img, mask, 2, 2, { y: 200, u: 200, v: 50 }, 0.5);
    for (let y = 0; y < 8; y++) {
      for (let x = 0; x < 8; x++) expect(Y(img, x, y), `(${x}, ${y})`).toBe(x >= 2 && x < 4 && y >= 2 && y < 4 ? 150 : 100);
    }
    expect([U(img, 2, 2), V(img, 2, 2), U(img, 4, 4)]).toEqual([164, 89, 128]);
  });

  it('drawText sets luma on the glyph pixels only, scaled, and textWidth measures it', () => {
    const img = grey(32, 16);
    drawText(img, '1', 0, 0, 2, 235);
    // '1' row 0 is ..#.. : columns 4-5 at scale 2.
    expect([Y(img, 4, 0), Y(img, 5, 1), Y(img, 0, 0), Y(img, 8, 0)]).toEqual([235, 235, 100, 100]);
    expect(U(img, 4, 0)).toBe(128);
    expect(textWidth('CAR 12', 1)).toBe(35);
    expect(textWidth('', 2)).toBe(0);
  });

  it('checkI420 refuses odd sides and a buffer of the wrong length', () => {
    expect(() => checkI420({ width: 3, height: 2, data: new Uint8Array(9) })).toThrow(TypeError);
    expect(() => checkI420({ width: 4, height: 2, data: new Uint8Array(11) })).toThrow(TypeError);
  });
});

describe('scenes', () => {
  const dets = new Detections({
    boxes: new Float32Array([10, 10, 30, 30, 40, 40, 60, 60]),
    scores: new Float32Array([0.9, 0.8]),
    classIds: new Int32Array([2, 0]),
    trackIds: new Int32Array([7, 8]),
    masks: [{ x: 10, y: 10, width: 20, height: 20, data: new Uint8Array(400).fill(1) }, null],
  });

  it('label objects with their class and track id, targets first with *T<target id>', () => {
    const scene = sceneOf(dets, ['person', 'bicycle', 'car'], new Map([[8, 3]]), 64, 64);
    expect(scene.objects.map((o) => [o.label, o.targetId])).toEqual([
      ['car 7', -1],
      ['*T3 person 8', 3],
    ]);
  });

  it('a target keeps its colour by target id (not by track or class), distinct from the next target', () => {
    expect(targetColour(3)).toEqual(targetColour(3 + 8));
    expect(targetColour(3)).not.toEqual(targetColour(4));
    expect(classColour(2)).not.toEqual(targetColour(0));
  });

  it('drawScene tints the mask and draws the box in the object colour at the display scale; a target in its target colour', () => {
    const img = grey(128, 128); // source 64x64 at 2x
    drawScene(img, sceneOf(dets, ['person', 'bicycle', 'car'], new Map([[8, 3]]), 64, 64));
    const car = classColour(2);
    const target = targetColour(3);
    // Box edge of the car (x 20 at 2x), 2 px thick.
    expect(Y(img, 20, 40)).toBe(car.y);
    expect(U(img, 20, 40)).toBe(car.u);
    // Inside the car's mask: tinted towards its colour, neither grey nor the colour itself.
    const inside = Y(img, 40, 40);
    expect(inside).not.toBe(100);
    expect(Math.sign(inside - 100)).toBe(Math.sign(car.y - 100));
    // The target's box (x 80 at 2x) in its target colour, 3 px thick; no mask: grey inside.
    expect([Y(img, 80, 100), Y(img, 82, 100), Y(img, 83, 100)]).toEqual([target.y, target.y, 100]);
    expect(Y(img, 100, 100)).toBe(100);
    // Far from both: untouched.
    expect(Y(img, 126, 4)).toBe(100);
  });
});
