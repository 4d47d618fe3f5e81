import { z } from 'zod';
import { parseWith } from '../core/index.js';
import { promptError } from './errors.js';

/**
 * Client -> server prompt messages (FastSAM stage 2), all coordinates in source-frame px:
 *
 *   {"type":"prompt","camera":"cam1","points":[[x,y,1],[x,y,0]]}   1 foreground, 0 background
 *   {"type":"prompt","camera":"cam1","box":[x1,y1,x2,y2]}
 *   {"type":"prompt","camera":"cam1","text":"truck"}
 *   {"type":"prompt.clear","camera":"cam1","target":3}             one target
 *   {"type":"prompt.clear","camera":"cam1"}                        every target of the camera
 *
 * A prompt carries exactly one of points / box / text. An optional `id` (string or number) is
 * echoed in the reply so a client can pair replies with requests. Unknown keys are rejected.
 */

export interface PromptLimits {
  /** Most points in one point prompt. */
  readonly maxPoints: number;
  /** Most characters (code points, after trimming) in a text prompt. */
  readonly maxTextLength: number;
  /** Longest camera id, characters. */
  readonly maxCameraIdLength: number;
}

export const DEFAULT_PROMPT_LIMITS: PromptLimits = { maxPoints: 64, maxTextLength: 200, maxCameraIdLength: 64 };

export const PROMPT_MESSAGE_TYPES = ['prompt', 'prompt.clear'] as const;
export type PromptMessageType = (typeof PROMPT_MESSAGE_TYPES)[number];

/** A point label: 1 = foreground (select what is here), 0 = background (exclude what is here). */
export type PointLabel = 0 | 1;

const FINITE = 'must be a finite number';

function schemasFor(limits: PromptLimits) {
  const coord = z.number({ error: FINITE });
  const label = z.union([z.literal(0), z.literal(1)], { error: 'point label must be 1 (foreground) or 0 (background)' });
  const point = z.tuple([coord, coord, label], { error: 'a point is [x, y, label]' });
  const requestId = z.union([z.string().max(64), z.number({ error: FINITE })]).optional();
  const camera = z
    .string({ error: 'camera must be a string' })
    .min(1, 'camera must not be empty')
    .max(limits.maxCameraIdLength, `camera id is longer than ${limits.maxCameraIdLength} characters`);

  const prompt = z
    .strictObject({
      type: z.literal('prompt'),
      camera,
      id: requestId,
      points: z
        .array(point, { error: 'points must be an array of [x, y, label]' })
        .min(1, 'points must hold at least one point')
        .max(limits.maxPoints, `points must hold at most ${limits.maxPoints} points`)
        .optional(),
      box: z.tuple([coord, coord, coord, coord], { error: 'box is [x1, y1, x2, y2]' }).optional(),
      text: z
        .string({ error: 'text must be a string' })
        .trim()
        .min(1, 'text must not be empty')
        .refine((s) => [...s].length <= limits.maxTextLength, `text must be at most ${limits.maxTextLength} characters`)
        .optional(),
    })
    .superRefine((m, ctx) => {
      const given = (['points', 'box', 'text'] as const).filter((k) => m[k] !== undefined);
      if (given.length !== 1) {
        ctx.addIssue({
          code: 'custom',
          path: given.length === 0 ? [] : [given[1] ?? given[0]!],
          message: `a prompt carries exactly one of points, box, text; got ${given.length === 0 ? 'none' : given.join(' and ')}`,
        });
      }
      if (m.box) {
        const [x1, y1, x2, y2] = m.box;
        if (!(x2 > x1) || !(y2 > y1)) {
          ctx.addIssue({ code: 'custom', path: ['box'], message: 'box must have x2 > x1 and y2 > y1' });
        }
      }
    });

  const clear = z.strictObject({
    type: z.literal('prompt.clear'),
    camera,
    id: requestId,
    target: z.number({ error: 'target must be a target id' }).int('target must be an integer').positive('target must be >= 1').optional(),
  });

  return { prompt, clear, message: z.discriminatedUnion('type', [prompt, clear]) };
}

const defaults = schemasFor(DEFAULT_PROMPT_LIMITS);

/** Schemas with the default limits; include them in the server's client message union. */
export const promptMessageSchema = defaults.prompt;
export const promptClearMessageSchema = defaults.clear;
export const promptClientMessageSchema = defaults.message;

export type PromptMessage = z.infer<typeof promptMessageSchema>;
export type PromptClearMessage = z.infer<typeof promptClearMessageSchema>;
export type PromptClientMessage = z.infer<typeof promptClientMessageSchema>;

/** A parsed prompt reduced to the one thing it asks for. */
export type Prompt =
  | { readonly kind: 'points'; readonly points: readonly { readonly x: number; readonly y: number; readonly label: PointLabel }[] }
  | { readonly kind: 'box'; readonly box: readonly [number, number, number, number] }
  | { readonly kind: 'text'; readonly text: string };

/**
 * Parses a `prompt` or `prompt.clear` message (already JSON-decoded). Throws
 * E_PROMPT_INVALID naming the offending field, with the expected and the actual value.
 */
export function parsePromptMessage(raw: unknown, limits: PromptLimits = DEFAULT_PROMPT_LIMITS): PromptClientMessage {
  const schema = limits === DEFAULT_PROMPT_LIMITS ? defaults.message : schemasFor(limits).message;
  return parseWith(schema, raw, 'E_PROMPT_INVALID', 'invalid prompt:');
}

/**
 * Checks a parsed prompt against the frame it applies to (source-frame size, px) and
 * reduces it to a Prompt. Points must lie in [0, width] x [0, height]; a box must lie
 * inside the frame too. Throws E_PROMPT_INVALID.
 */
export function validatePrompt(msg: PromptMessage, frameWidth: number, frameHeight: number): Prompt {
  if (!(frameWidth > 0) || !(frameHeight > 0)) {
    throw new TypeError(`validatePrompt: frame size must be positive, got ${frameWidth}x${frameHeight}`);
  }
  const inside = (x: number, y: number): boolean => x >= 0 && y >= 0 && x <= frameWidth && y <= frameHeight;
  const expected = `x in [0, ${frameWidth}], y in [0, ${frameHeight}]`;
  if (msg.points !== undefined) {
    msg.points.forEach(([x, y], i) => {
      if (!inside(x, y)) {
        throw promptError('E_PROMPT_INVALID', `invalid prompt: points.${i}: (${x}, ${y}) lies outside the ${frameWidth}x${frameHeight} frame`, {
          expected,
          actual: [x, y],
        });
      }
    });
    return { kind: 'points', points: msg.points.map(([x, y, label]) => ({ x, y, label })) };
  }
  if (msg.box !== undefined) {
    const [x1, y1, x2, y2] = msg.box;
    if (!inside(x1, y1) || !inside(x2, y2)) {
      throw promptError('E_PROMPT_INVALID', `invalid prompt: box: [${msg.box.join(', ')}] is not inside the ${frameWidth}x${frameHeight} frame`, {
        expected,
        actual: msg.box,
      });
    }
    return { kind: 'box', box: [x1, y1, x2, y2] };
  }
  if (msg.text !== undefined) return { kind: 'text', text: msg.text };
  // The schema guarantees one of the three; this guards hand-built messages.
  throw promptError('E_PROMPT_INVALID', 'invalid prompt: a prompt carries exactly one of points, box, text', {
    expected: 'points, box or text',
    actual: null,
  });
}

/** parsePromptMessage + validatePrompt for a `prompt` message, in one call. */
export function parsePrompt(
  raw: unknown,
  frameWidth: number,
  frameHeight: number,
  limits: PromptLimits = DEFAULT_PROMPT_LIMITS,
): { message: PromptMessage; prompt: Prompt } {
  const message = parsePromptMessage(raw, limits);
  if (message.type !== 'prompt') {
    throw promptError('E_PROMPT_INVALID', `invalid prompt: expected a 'prompt' message, got '${message.type}'`, {
      expected: 'prompt',
      actual: message.type,
    });
  }
  return { message, prompt: validatePrompt(message, frameWidth, frameHeight) };
}
