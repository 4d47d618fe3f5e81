import { DEFAULT_PROMPT_LIMITS, parsePromptMessage, type PointLabel, type PromptLimits, type PromptMessage } from '../protocol/index.js';
import { promptError } from './errors.js';

/**
 * The prompt messages' schemas, limits and parser live in the protocol (src/protocol/client.ts);
 * this file checks a parsed prompt against the frame it applies to.
 */
export {
  DEFAULT_PROMPT_LIMITS,
  PROMPT_MESSAGE_TYPES,
  parsePromptMessage,
  promptClearMessageSchema,
  promptClientMessageSchema,
  promptMessageSchema,
  type PointLabel,
  type PromptClearMessage,
  type PromptClientMessage,
  type PromptLimits,
  type PromptMessage,
  type PromptMessageType,
} from '../protocol/index.js';

/** A parsed prompt reduced to the one thing it asks for. */
export type Prompt =
  | { readonly kind: 'points'; readonly points: readonly { readonly x: number; readonly y: number; readonly label: PointLabel }[] }
  | { readonly kind: 'box'; readonly box: readonly [number, number, number, number] }
  | { readonly kind: 'text'; readonly text: string };

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
