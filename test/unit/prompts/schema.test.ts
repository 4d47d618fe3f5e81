import { describe, expect, it } from 'vitest';
import { parsePrompt, parsePromptMessage, validatePrompt, type PromptMessage } from '../../../src/prompts/schema.js';

const W = 640;
const H = 480;

function invalid(raw: unknown): { code: string; message: string; expected: unknown; actual: unknown } {
  try {
    parsePrompt(raw, W, H);
  } catch (err) {
    return err as { code: string; message: string; expected: unknown; actual: unknown };
  }
  throw new Error(`accepted ${JSON.stringify(raw)}`);
}

const base = { type: 'prompt', camera: 'cam1' } as const;

describe('prompt messages that parse', () => {
  it('points with foreground and background labels become a points prompt', () => {
    expect(parsePrompt({ ...base, points: [[10, 20, 1], [30.5, 40, 0]] }, W, H).prompt).toEqual({
      kind: 'points',
      points: [
        { x: 10, y: 20, label: 1 },
        { x: 30.5, y: 40, label: 0 },
      ],
    });
  });

  it('a box and a text (trimmed) become box and text prompts; an id is kept', () => {
    expect(parsePrompt({ ...base, box: [1, 2, 3, 4] }, W, H).prompt).toEqual({ kind: 'box', box: [1, 2, 3, 4] });
    const r = parsePrompt({ ...base, text: '  truck ', id: 'q1' }, W, H);
    expect(r.prompt).toEqual({ kind: 'text', text: 'truck' });
    expect(r.message.id).toBe('q1');
  });

  it('points on the frame edge (x = width, y = height) are inside', () => {
    expect(parsePrompt({ ...base, points: [[W, H, 1], [0, 0, 1]] }, W, H).prompt.kind).toBe('points');
  });

  it('prompt.clear with and without a target', () => {
    expect(parsePromptMessage({ type: 'prompt.clear', camera: 'cam1', target: 3 })).toEqual({ type: 'prompt.clear', camera: 'cam1', target: 3 });
    expect(parsePromptMessage({ type: 'prompt.clear', camera: 'cam1' })).toEqual({ type: 'prompt.clear', camera: 'cam1' });
  });

  it('200 characters of text is the limit, counted in code points', () => {
    expect(parsePrompt({ ...base, text: '🚚'.repeat(200) }, W, H).prompt.kind).toBe('text');
  });
});

describe('bad prompts are E_PROMPT_INVALID naming the field', () => {
  const cases: [string, unknown, RegExp][] = [
    ['an empty point list', { ...base, points: [] }, /points: .*at least one point/],
    ['a string "NaN" coordinate', { ...base, points: [['NaN', 5, 1]] }, /points\[0\]\[0\]: must be a finite number/],
    ['a null coordinate', { ...base, points: [[null, 5, 1]] }, /points\[0\]\[0\]: must be a finite number/],
    ['an infinite coordinate (JSON 1e999)', JSON.parse(`{"type":"prompt","camera":"c","box":[0,0,1e999,5]}`), /box\[2\]: must be a finite number/],
    ['label 2', { ...base, points: [[1, 1, 2]] }, /points\[0\]\[2\]: point label must be 1 \(foreground\) or 0 \(background\)/],
    ['label "1" as a string', { ...base, points: [[1, 1, '1']] }, /points\[0\]\[2\]: point label/],
    ['a point without a label', { ...base, points: [[1, 1]] }, /points\[0\]: a point is \[x, y, label\]/],
    ['65 points', { ...base, points: Array.from({ length: 65 }, () => [1, 1, 1]) }, /at most 64 points/],
    ['an empty text', { ...base, text: '' }, /text: text must not be empty/],
    ['a whitespace-only text', { ...base, text: '   ' }, /text: text must not be empty/],
    ['a 201-character text', { ...base, text: 'a'.repeat(201) }, /text: text must be at most 200 characters/],
    ['x2 < x1', { ...base, box: [10, 0, 5, 5] }, /box: box must have x2 > x1 and y2 > y1/],
    ['y2 < y1', { ...base, box: [0, 10, 5, 5] }, /box: box must have x2 > x1/],
    ['a zero-width box', { ...base, box: [5, 0, 5, 5] }, /box: box must have x2 > x1/],
    ['a box of three numbers', { ...base, box: [0, 0, 5] }, /box/],
    ['both points and a box', { ...base, points: [[1, 1, 1]], box: [0, 0, 5, 5] }, /exactly one of points, box, text; got points and box/],
    ['no points, box or text', { ...base }, /exactly one of points, box, text; got none/],
    ['an unknown key', { ...base, text: 'car', colour: 'red' }, /colour/],
    ['an empty camera id', { ...base, camera: '', text: 'car' }, /camera: camera must not be empty/],
    ['a point right of the frame', { ...base, points: [[W + 0.5, 10, 1]] }, /points\.0: \(640\.5, 10\) lies outside the 640x480 frame/],
    ['a point above the frame', { ...base, points: [[10, -1, 0]] }, /points\.0: .* lies outside/],
    ['a box reaching below the frame', { ...base, box: [0, 0, 10, H + 1] }, /box: .* is not inside the 640x480 frame/],
  ];
  for (const [name, raw, message] of cases) {
    it(`rejects ${name}`, () => {
      const err = invalid(raw);
      expect(err.code).toBe('E_PROMPT_INVALID');
      expect(err.message).toMatch(message);
      expect(err.expected).toBeDefined();
    });
  }

  it('reports expected and actual sizes for limits', () => {
    expect(invalid({ ...base, points: Array.from({ length: 65 }, () => [1, 1, 1]) })).toMatchObject({ expected: '<= 64', actual: 65 });
    expect(invalid({ ...base, points: [[W + 1, 2, 1]] })).toMatchObject({ actual: [W + 1, 2] });
  });

  it('a prompt.clear target must be a positive integer', () => {
    expect(() => parsePromptMessage({ type: 'prompt.clear', camera: 'c', target: 0 })).toThrow(/target must be >= 1/);
    expect(() => parsePromptMessage({ type: 'prompt.clear', camera: 'c', target: 1.5 })).toThrow(/target must be an integer/);
    expect(() => parsePromptMessage({ type: 'prompt.clear', camera: 'c', target: '2' })).toThrow(/target/);
  });

  it('parsePrompt refuses a prompt.clear message', () => {
    expect(() => parsePrompt({ type: 'prompt.clear', camera: 'c' }, W, H)).toThrow(/expected a 'prompt' message/);
  });

  it('limits are options', () => {
    const limits = { maxPoints: 2, maxTextLength: 5, maxCameraIdLength: 8 };
    expect(() => parsePromptMessage({ ...base, points: [[1, 1, 1], [2, 2, 1], [3, 3, 1]] }, limits)).toThrow(/at most 2 points/);
    expect(() => parsePromptMessage({ ...base, text: 'trucks' }, limits)).toThrow(/at most 5 characters/);
    expect(parsePromptMessage({ ...base, text: 'truck' }, limits)).toMatchObject({ text: 'truck' });
  });

  it('validatePrompt refuses a non-positive frame size as a programming error', () => {
    const msg: PromptMessage = { type: 'prompt', camera: 'c', text: 'car' };
    expect(() => validatePrompt(msg, 0, 10)).toThrow(TypeError);
  });
});
