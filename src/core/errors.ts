/**
 * Every error segstream reports carries a stable `code`. The codes are documented
 * together in docs/errors.md; clients and log searches key on them, so never rename one.
 */
export const ERROR_CODES = [
  // configuration / start-up
  'E_CONFIG',
  'E_MODEL_NOT_FOUND',
  'E_MODEL_CORRUPT',
  'E_MODEL_NOT_SEGMENTATION',
  'E_MODEL_SHAPE',
  'E_DEVICE_UNAVAILABLE',
  // sources
  'E_SOURCE_UNREADABLE',
  'E_SOURCE_REFUSED',
  'E_SOURCE_FAILED',
  'E_SOURCE_STALLED',
  // cameras managed at run time (HTTP API, reload)
  'E_CAMERA_EXISTS',
  'E_CAMERA_LIMIT',
  // inference and internals
  'E_INFERENCE',
  'E_INTERNAL',
  // WebSocket clients
  'E_MSG_NOT_JSON',
  'E_MSG_TOO_LARGE',
  'E_MSG_INVALID',
  'E_MSG_UNKNOWN_TYPE',
  'E_UNKNOWN_CAMERA',
  'E_CLIENT_SLOW',
  'E_TOO_MANY_CLIENTS',
  // access control
  'E_UNAUTHORIZED',
  'E_ORIGIN_REFUSED',
  // prompts and targets
  'E_PROMPT_INVALID',
  'E_PROMPT_NO_MATCH',
  'E_UNKNOWN_TARGET',
  'E_TARGET_LIMIT',
  // road events
  'E_UNKNOWN_EVENT',
  // a cluster (segstream node / gateway over a broker)
  'E_BROKER',
  'E_NO_NODE',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface SegstreamErrorOptions {
  expected?: unknown;
  actual?: unknown;
  cause?: unknown;
}

export class SegstreamError extends Error {
  readonly code: ErrorCode;
  readonly expected: unknown;
  readonly actual: unknown;

  constructor(code: ErrorCode, message: string, options: SegstreamErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SegstreamError';
    this.code = code;
    this.expected = options.expected;
    this.actual = options.actual;
  }

  /** Shape sent to WebSocket clients and written to structured logs. */
  toJSON(): { code: ErrorCode; message: string; expected?: unknown; actual?: unknown } {
    const out: { code: ErrorCode; message: string; expected?: unknown; actual?: unknown } = {
      code: this.code,
      message: this.message,
    };
    if (this.expected !== undefined) out.expected = this.expected;
    if (this.actual !== undefined) out.actual = this.actual;
    return out;
  }
}

export function isSegstreamError(err: unknown): err is SegstreamError {
  return err instanceof SegstreamError;
}

/** Wraps anything thrown into a SegstreamError with the given fallback code. */
export function toSegstreamError(err: unknown, fallback: ErrorCode): SegstreamError {
  if (err instanceof SegstreamError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new SegstreamError(fallback, message, { cause: err });
}
