/** Wire protocol version, sent in `hello`. Bump on breaking changes (docs/protocol.md). */
export const PROTOCOL_VERSION = 1;

/** What a client message may be before it is parsed (the server's defaults; each is a PublishServer option). */
export interface MessageLimits {
  /** Larger messages get E_MSG_TOO_LARGE and are ignored, bytes. */
  readonly maxMessageBytes: number;
  /** Larger frames close the connection with 1009 (ws maxPayload), bytes. */
  readonly maxPayloadBytes: number;
  /** Messages nesting arrays and objects deeper get E_MSG_INVALID before they are parsed, levels. */
  readonly maxMessageDepth: number;
}

export const DEFAULT_MESSAGE_LIMITS: MessageLimits = { maxMessageBytes: 16 * 1024, maxPayloadBytes: 1024 * 1024, maxMessageDepth: 32 };

export interface PromptLimits {
  /** Most points in one point prompt. */
  readonly maxPoints: number;
  /** Most characters (code points, after trimming) in a text prompt. */
  readonly maxTextLength: number;
  /** Longest camera id, characters. */
  readonly maxCameraIdLength: number;
}

export const DEFAULT_PROMPT_LIMITS: PromptLimits = { maxPoints: 64, maxTextLength: 200, maxCameraIdLength: 64 };

/** Longest request `id` string a client may send (echoed in the reply), UTF-16 units. */
export const MAX_REQUEST_ID_CHARS = 64;
/** Most camera ids in one `subscribe`. */
export const MAX_SUBSCRIBE_CAMERAS = 256;
