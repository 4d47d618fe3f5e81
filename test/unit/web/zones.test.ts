import { describe, expect, it } from 'vitest';
import { toSource } from '../../../web/gesture.js';
import {
  DEFAULT_RULE_FORM,
  labelAnchor,
  MAX_VERTICES,
  nextZoneName,
  parseZones,
  pointInPolygon,
  polygonArea,
  PolygonDraft,
  ruleFromForm,
  ruleSummary,
  zoneAt,
  zoneNameError,
  type Point,
} from '../../../web/zones.js';

const square: Point[] = [[10, 10], [110, 10], [110, 110], [10, 110]];

describe('zone drawing: PolygonDraft', () => {
  it('collects corners; a click on the last one (a double-click\'s second) adds nothing; close() gives the polygon and empties the draft', () => {
    const d = new PolygonDraft();
    expect(d.add([10, 10], 4)).toBe('added');
    expect(d.add([110, 10], 4)).toBe('added');
    expect(d.add([111, 12], 4)).toBe('duplicate');
    expect(d.add([110, 110], 4)).toBe('added');
    expect(d.vertices).toEqual([[10, 10], [110, 10], [110, 110]]);
    expect(d.close()).toEqual({ polygon: [[10, 10], [110, 10], [110, 110]] });
    expect(d.empty).toBe(true);
  });

  it('a click near the first corner says close once there are 3 corners, and adds a corner before that', () => {
    const d = new PolygonDraft();
    d.add([10, 10], 4);
    d.add([110, 10], 4);
    // Two corners: near the first is just a corner (it is not near the last).
    expect(d.add([12, 12], 4)).toBe('added');
    d.undo();
    d.add([110, 110], 4);
    expect(d.add([12, 12], 4)).toBe('close');
    expect(d.vertices).toHaveLength(3);
  });

  it('close() refuses fewer than 3 corners and corners on one line, keeping the draft', () => {
    const d = new PolygonDraft();
    d.add([0, 0], 1);
    d.add([10, 0], 1);
    expect(d.close()).toEqual({ error: 'a zone needs at least 3 corners (2 so far)' });
    d.add([20, 0], 1);
    expect(d.close()).toEqual({ error: 'the corners are on one line: the zone has no area' });
    expect(d.vertices).toHaveLength(3);
    expect(d.undo()).toBe(true);
    d.clear();
    expect(d.undo()).toBe(false);
  });

  it('stops at the server\'s limit of corners', () => {
    const d = new PolygonDraft();
    for (let i = 0; i < MAX_VERTICES; i++) expect(d.add([i * 10, (i % 2) * 10], 1)).toBe('added');
    expect(d.add([-50, -50], 1)).toBe('full');
  });

  it('clicks mapped through the displayed size (gesture.ts) land in source px', () => {
    // A 640x480 frame shown at 320x240 at (100, 50): display clicks to source corners.
    const rect = { left: 100, top: 50, width: 320, height: 240 };
    const d = new PolygonDraft();
    for (const [x, y] of [[110, 60], [410, 60], [410, 280]] as const) d.add(toSource(x, y, rect, 640, 480), 8 * (640 / 320));
    expect(d.close()).toEqual({ polygon: [[20, 20], [620, 20], [620, 460]] });
  });
});

describe('zone geometry', () => {
  it('pointInPolygon: inside, outside, concave notch, self-crossing (even-odd)', () => {
    expect(pointInPolygon([50, 50], square)).toBe(true);
    expect(pointInPolygon([150, 50], square)).toBe(false);
    expect(pointInPolygon([5, 50], square)).toBe(false);
    const u: Point[] = [[0, 0], [30, 0], [30, 30], [20, 30], [20, 10], [10, 10], [10, 30], [0, 30]];
    expect(pointInPolygon([15, 20], u)).toBe(false);
    expect(pointInPolygon([5, 20], u)).toBe(true);
    const bow: Point[] = [[0, 0], [20, 20], [20, 0], [0, 20]];
    expect(pointInPolygon([3, 10], bow)).toBe(true);
    expect(pointInPolygon([10, 3], bow)).toBe(false);
    expect(pointInPolygon([1, 1], [])).toBe(false);
  });

  it('zoneAt returns the topmost (last) zone containing the point, or -1', () => {
    const small: Point[] = [[40, 40], [60, 40], [60, 60], [40, 60]];
    const zones = [{ polygon: square }, { polygon: small }];
    expect(zoneAt(zones, [50, 50])).toBe(1);
    expect(zoneAt(zones, [20, 20])).toBe(0);
    expect(zoneAt(zones, [200, 200])).toBe(-1);
  });

  it('polygonArea is the shoelace area; labelAnchor the topmost, then leftmost corner', () => {
    expect(Math.abs(polygonArea(square))).toBe(10_000);
    expect(labelAnchor([[50, 30], [10, 80], [90, 30]])).toEqual([50, 30]);
    expect(labelAnchor([])).toEqual([0, 0]);
  });
});

describe('zone names and the rule form', () => {
  it('names follow the server\'s rule and are unique; nextZoneName finds a free one', () => {
    expect(zoneNameError('lane 1', [])).toBeUndefined();
    expect(zoneNameError(' lane', [])).toMatch(/starting with a letter or digit/);
    expect(zoneNameError('a'.repeat(65), [])).toMatch(/1-64/);
    expect(zoneNameError('lane/1', [])).toMatch(/A-Z/);
    expect(zoneNameError('lane 1', ['lane 1'])).toBe("there is already a zone named 'lane 1'");
    expect(nextZoneName(['zone 1', 'zone 3'])).toBe('zone 2');
  });

  it('the defaults make a presence rule of car, truck, bus for 1 s', () => {
    expect(ruleFromForm(DEFAULT_RULE_FORM)).toEqual({ rule: { kind: 'presence', classes: ['car', 'truck', 'bus'], seconds: 1 } });
  });

  it('count takes above; unknown takes no classes; empty classes mean every class', () => {
    expect(ruleFromForm({ kind: 'count', classes: 'car', seconds: '5', above: '3' })).toEqual({ rule: { kind: 'count', classes: ['car'], seconds: 5, above: 3 } });
    expect(ruleFromForm({ kind: 'unknown', classes: 'car', seconds: '10', above: '' })).toEqual({ rule: { kind: 'unknown', seconds: 10 } });
    expect(ruleFromForm({ kind: 'stopped', classes: ' , ', seconds: '2.5', above: '' })).toEqual({ rule: { kind: 'stopped', seconds: 2.5 } });
  });

  it('refuses bad fields, naming them', () => {
    expect(ruleFromForm({ ...DEFAULT_RULE_FORM, kind: 'teleport' })).toEqual({ error: "kind: one of presence, stopped, count, unknown, got 'teleport'" });
    expect(ruleFromForm({ ...DEFAULT_RULE_FORM, seconds: '' })).toMatchObject({ error: expect.stringMatching(/^seconds:/) });
    expect(ruleFromForm({ ...DEFAULT_RULE_FORM, seconds: '-1' })).toMatchObject({ error: expect.stringMatching(/^seconds:/) });
    expect(ruleFromForm({ kind: 'count', classes: '', seconds: '1', above: '1.5' })).toMatchObject({ error: expect.stringMatching(/^above:/) });
  });

  it('ruleSummary says each kind in words and shows an unknown kind as it is', () => {
    expect(ruleSummary({ kind: 'presence', classes: ['car', 'bus'], seconds: 1 })).toBe('presence of car, bus for 1 s');
    expect(ruleSummary({ kind: 'count', seconds: 5, above: 3 })).toBe('more than 3 of any class for 5 s');
    expect(ruleSummary({ kind: 'unknown', seconds: 10 })).toBe('unknown object stopped for 10 s');
    expect(ruleSummary({ kind: 'wrong_way', seconds: 2 })).toBe('wrong_way for 2 s');
  });
});

describe('parseZones', () => {
  it('takes the body\'s zones, keeping fields it does not edit (for the PUT)', () => {
    const body = { zones: [{ name: 'road', polygon: [[0, 0], [10, 0], [10, 10]], minOverlap: 0.5, rules: [{ kind: 'stopped', seconds: 3, maxMove: 0.2 }] }] };
    expect(parseZones(body)).toEqual(body.zones);
    expect(parseZones({ zones: [{ name: 'z', polygon: [[0, 0], [1, 0], [1, 1]] }] })[0]!.rules).toEqual([]);
  });

  it('refuses a body that is not zones, naming the field', () => {
    expect(() => parseZones(null)).toThrow(TypeError);
    expect(() => parseZones({ zones: [{ name: 1 }] })).toThrow('zones[0].name');
    expect(() => parseZones({ zones: [{ name: 'a', polygon: [[0, 'x']] }] })).toThrow('zones[0].polygon');
    expect(() => parseZones({ zones: [{ name: 'a', polygon: [], rules: [{}] }] })).toThrow('zones[0].rules');
  });
});
