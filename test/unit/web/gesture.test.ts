import { describe, expect, it } from 'vitest';
import { DRAG_PX, gestureOf, toSource } from '../../../web/gesture.js';

// A 640x480 frame shown at 320x240, 100 px from the left and 50 from the top of the page.
const rect = { left: 100, top: 50, width: 320, height: 240 };
const down = (x: number, y: number, button = 0, shiftKey = false) => ({ clientX: x, clientY: y, button, shiftKey });

describe('dashboard gestures', () => {
  it('maps displayed positions to source-frame px through the displayed size, clamped to the frame', () => {
    expect(toSource(100, 50, rect, 640, 480)).toEqual([0, 0]);
    expect(toSource(420, 290, rect, 640, 480)).toEqual([640, 480]);
    expect(toSource(260, 170, rect, 640, 480)).toEqual([320, 240]);
    expect(toSource(90, 400, rect, 640, 480)).toEqual([0, 480]);
    expect(toSource(100.05, 50, rect, 640, 480)).toEqual([0.1, 0]);
  });

  it('a click is a foreground point; shift-click and right-click are background points', () => {
    expect(gestureOf(down(260, 170), 261, 171, rect, 640, 480)).toEqual({ kind: 'point', x: 320, y: 240, label: 1 });
    expect(gestureOf(down(260, 170, 0, true), 260, 170, rect, 640, 480)).toEqual({ kind: 'point', x: 320, y: 240, label: 0 });
    expect(gestureOf(down(260, 170, 2), 290, 200, rect, 640, 480)).toEqual({ kind: 'point', x: 320, y: 240, label: 0 });
    expect(gestureOf(down(260, 170, 1), 260, 170, rect, 640, 480)).toBeUndefined();
  });

  it('a drag of DRAG_PX or more is a box in source px, whichever way it went', () => {
    expect(gestureOf(down(150, 100), 200, 150, rect, 640, 480)).toEqual({ kind: 'box', box: [100, 100, 200, 200] });
    expect(gestureOf(down(200, 150), 150, 100, rect, 640, 480)).toEqual({ kind: 'box', box: [100, 100, 200, 200] });
    expect(gestureOf(down(150, 100), 150 + DRAG_PX - 1, 100, rect, 640, 480)).toMatchObject({ kind: 'point' });
    // Dragged off the frame: cut at its edge.
    expect(gestureOf(down(400, 270), 500, 400, rect, 640, 480)).toEqual({ kind: 'box', box: [600, 440, 640, 480] });
    // Along the frame's edge (no height once clamped): a point, not a box the server would refuse.
    expect(gestureOf(down(150, 20), 200, 30, rect, 640, 480)).toEqual({ kind: 'point', x: 100, y: 0, label: 1 });
  });
});
