import { z } from 'zod';
import { parseWith } from '../core/validation.js';
import { maskFormatSchema, requestIdSchema } from './common.js';
import { jpegOptionsSchema } from './jpeg.js';
import { DEFAULT_PROMPT_LIMITS, MAX_SUBSCRIBE_CAMERAS, type PromptLimits } from './limits.js';

/**
 * Client -> server messages. Unknown keys are rejected so typos surface as errors: `ping` and
 * `subscribe` with E_MSG_INVALID, `prompt` and `prompt.clear` with E_PROMPT_INVALID.
 */

export const pingMessageSchema = z.strictObject({ type: z.literal('ping'), id: requestIdSchema.optional() }).describe('An application-level ping: answered with pong (the server\'s heartbeat uses RFC 6455 pings).');

export const subscribeMessageSchema = z.strictObject({
  type: z.literal('subscribe'),
  cameras: z.union([z.literal('*'), z.array(z.string().min(1).max(64)).max(MAX_SUBSCRIBE_CAMERAS)]).describe('Camera ids to receive frames of; omitted or "*" = all, cameras added later included.').optional(),
  masks: maskFormatSchema.describe('How frame messages carry masks; omitted = rle.').optional(),
  jpeg: jpegOptionsSchema.optional(),
}).describe('Replaces the client\'s subscription: which cameras, which mask format, JPEG frames or none.');

const FINITE = 'must be a finite number';

/**
 * Prompts (FastSAM stage 2), all coordinates in source-frame px:
 *
 *   {"type":"prompt","camera":"cam1","points":[[x,y,1],[x,y,0]]}   1 foreground, 0 background
 *   {"type":"prompt","camera":"cam1","box":[x1,y1,x2,y2]}
 *   {"type":"prompt","camera":"cam1","text":"truck"}
 *   {"type":"prompt.clear","camera":"cam1","target":3}             one target
 *   {"type":"prompt.clear","camera":"cam1"}                        every target of the camera
 *
 * A prompt carries exactly one of points / box / text. An optional `id` (string or number) is
 * echoed in the reply so a client can pair replies with requests.
 */
function promptSchemasFor(limits: PromptLimits) {
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

const prompts = promptSchemasFor(DEFAULT_PROMPT_LIMITS);

/** Schemas with the default limits. */
export const promptMessageSchema = prompts.prompt;
export const promptClearMessageSchema = prompts.clear;
export const promptClientMessageSchema = prompts.message;

export const PROMPT_MESSAGE_TYPES = ['prompt', 'prompt.clear'] as const;
export type PromptMessageType = (typeof PROMPT_MESSAGE_TYPES)[number];

/** Every client -> server message. */
export const clientMessageSchema = z.discriminatedUnion('type', [pingMessageSchema, subscribeMessageSchema, promptMessageSchema, promptClearMessageSchema]);

export const CLIENT_MESSAGE_TYPES = ['ping', 'subscribe', ...PROMPT_MESSAGE_TYPES] as const;
export type ClientMessageType = (typeof CLIENT_MESSAGE_TYPES)[number];

export type PingMessage = z.infer<typeof pingMessageSchema>;
export type SubscribeMessage = z.infer<typeof subscribeMessageSchema>;
export type PromptMessage = z.infer<typeof promptMessageSchema>;
export type PromptClearMessage = z.infer<typeof promptClearMessageSchema>;
export type PromptClientMessage = z.infer<typeof promptClientMessageSchema>;
export type ClientMessage = z.infer<typeof clientMessageSchema>;

/** A point label: 1 = foreground (select what is here), 0 = background (exclude what is here). */
export type PointLabel = 0 | 1;

/**
 * Parses a `ping` or `subscribe` message (already JSON-decoded; the messages the server
 * answers itself). Throws E_MSG_INVALID naming the offending field.
 */
export function parseControlMessage(raw: unknown, type: 'ping' | 'subscribe'): PingMessage | SubscribeMessage {
  const schema = type === 'ping' ? pingMessageSchema : subscribeMessageSchema;
  return parseWith(schema, raw, 'E_MSG_INVALID', `invalid '${type}' message:`);
}

/**
 * Parses a `prompt` or `prompt.clear` message (already JSON-decoded). Throws
 * E_PROMPT_INVALID naming the offending field, with the expected and the actual value.
 */
export function parsePromptMessage(raw: unknown, limits: PromptLimits = DEFAULT_PROMPT_LIMITS): PromptClientMessage {
  const schema = limits === DEFAULT_PROMPT_LIMITS ? prompts.message : promptSchemasFor(limits).message;
  return parseWith(schema, raw, 'E_PROMPT_INVALID', 'invalid prompt:');
}
