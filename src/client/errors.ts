import type { WireError } from './types.js';

/**
 * Codes the client itself gives (the server's codes, docs/errors.md, pass through unchanged):
 * - `E_TIMEOUT`: no reply to a request within `requestTimeoutMs`
 * - `E_NOT_CONNECTED`: a request while the connection is not open
 * - `E_CONNECTION_LOST`: the connection dropped before the reply came
 * - `E_CLIENT_CLOSED`: `close()` was called
 * - `E_WHEP`: WHEP negotiation failed (HTTP status or WebRTC error in the message)
 */
export const CLIENT_ERROR_CODES = ['E_TIMEOUT', 'E_NOT_CONNECTED', 'E_CONNECTION_LOST', 'E_CLIENT_CLOSED', 'E_WHEP'] as const;
export type ClientErrorCode = (typeof CLIENT_ERROR_CODES)[number];

/** A request the server refused (its `code`), or one the client gave up on (CLIENT_ERROR_CODES). */
export class SegstreamClientError extends Error {
  override readonly name = 'SegstreamClientError';
  readonly code: string;
  // Declared only: set when given, so an error without them shows none.
  declare readonly expected?: unknown;
  declare readonly actual?: unknown;
  /** The HTTP status, for WHEP requests. */
  declare readonly status?: number;

  constructor(code: string, message: string, extra: { expected?: unknown; actual?: unknown; status?: number } = {}) {
    super(message);
    this.code = code;
    if (extra.expected !== undefined) this.expected = extra.expected;
    if (extra.actual !== undefined) this.actual = extra.actual;
    if (extra.status !== undefined) this.status = extra.status;
  }

  static fromWire(e: WireError): SegstreamClientError {
    return new SegstreamClientError(String(e.code), String(e.message), { expected: e.expected, actual: e.actual });
  }
}
