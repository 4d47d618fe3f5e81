import { SegstreamError, type ErrorCode, type SegstreamErrorOptions } from '../core/index.js';

/** Error codes the prompt layer reports (all in ERROR_CODES, documented in docs/errors.md). */
export const PROMPT_ERROR_CODES = [
  /** The message is malformed or out of range (bad shape, NaN, outside the frame, too long...). */
  'E_PROMPT_INVALID',
  /** A well-formed prompt selected nothing in the current frame. */
  'E_PROMPT_NO_MATCH',
  /** The camera id names no camera of this process. */
  'E_UNKNOWN_CAMERA',
  /** prompt.clear named a target that does not exist (or has ended) on that camera. */
  'E_UNKNOWN_TARGET',
  /** A camera already holds the most targets allowed (TargetRegistryOptions.maxTargets). */
  'E_TARGET_LIMIT',
] as const satisfies readonly ErrorCode[];

export type PromptErrorCode = (typeof PROMPT_ERROR_CODES)[number];

export function promptError(code: PromptErrorCode, message: string, options: SegstreamErrorOptions = {}): SegstreamError {
  return new SegstreamError(code, message, options);
}
