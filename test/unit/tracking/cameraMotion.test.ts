import { describe, expect, it } from 'vitest';
import { classGroupsOf, estimateCameraShift } from '../../../src/tracking/index.js';

type B = [number, number, number, number];
const box = (x: number, y: number, h = 100): B => [x, y, x + h / 2.5, y + h];
const shifted = (bs: B[], dx: number, dy: number): B[] => bs.map((b) => [b[0] + dx, b[1] + dy, b[2] + dx, b[3] + dy]);

describe('estimateCameraShift', () => {
  const scene: B[] = [box(0, 0), box(100, 20), box(220, 40, 80), box(400, 10), box(520, 60, 120)];

  it('finds the shift every track agrees on', () => {
    const s = estimateCameraShift({ tracks: scene, detections: shifted(scene, 30, -12) });
    expect(s).not.toBeNull();
    expect(s!.dx).toBeCloseTo(30, 6);
    expect(s!.dy).toBeCloseTo(-12, 6);
    expect(s!.support).toBe(5);
  });

  it('is robust to a minority moving on their own and to extra detections', () => {
    const dets = shifted(scene, -25, 8);
    dets[1] = [dets[1]![0] + 40, dets[1]![1], dets[1]![2] + 40, dets[1]![3]];
    dets.push(box(700, 300));
    const s = estimateCameraShift({ tracks: scene, detections: dets });
    expect(s!.dx).toBeCloseTo(-25, 6);
    expect(s!.dy).toBeCloseTo(8, 6);
    expect(s!.support).toBe(4);
  });

  it('reports no shift for a still camera, too few tracks, or no agreement', () => {
    expect(estimateCameraShift({ tracks: scene, detections: scene })).toBeNull();
    expect(estimateCameraShift({ tracks: scene.slice(0, 2), detections: shifted(scene.slice(0, 2), 30, 0) })).toBeNull();
    // Each object moving its own way: no common shift.
    const own = scene.map((b, i): B => [b[0] + 10 * i * (i % 2 ? 1 : -1), b[1] + 7 * i, b[2] + 10 * i * (i % 2 ? 1 : -1), b[3] + 7 * i]);
    expect(estimateCameraShift({ tracks: scene, detections: own })).toBeNull();
  });
});

describe('classGroupsOf', () => {
  it('groups COCO vehicles, persons and animals; other names share one group', () => {
    const g = classGroupsOf(['person', 'bicycle', 'car', 'truck', 'dog', 'cat', 'backpack', 'suitcase']);
    expect(g[2]).toBe(g[3]);
    expect(g[1]).toBe(g[2]);
    expect(g[0]).not.toBe(g[2]);
    expect(g[4]).toBe(g[5]);
    expect(g[4]).not.toBe(g[0]);
    expect(g[6]).toBe(g[7]);
    expect(new Set([g[0], g[2], g[4], g[6]]).size).toBe(4);
  });
});
