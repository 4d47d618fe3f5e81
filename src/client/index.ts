/**
 * segstream/client: the typed client library, for Node (pass `WebSocket` from `ws`) and the
 * browser. No Node imports anywhere below: the same files compile for the dashboard.
 */
export { connect, SegstreamClient, webSocketUrl } from './client.js';
export type { ClientEvents, ConnectionState, ConnectOptions, StateChange, WebSocketConstructor, WebSocketLike } from './client.js';
export { backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
export type { BackoffOptions } from './backoff.js';
export { CLIENT_ERROR_CODES, SegstreamClientError } from './errors.js';
export type { ClientErrorCode } from './errors.js';
export { decodeJpegFrame } from './jpeg.js';
export { decodeRle, forEachRleRun, rleCounts, RleError } from './rle.js';
export { checkWhepAnswer, deleteWhepSession, postWhepOffer, watchWhep, whepEndpoint } from './whep.js';
export type { FetchLike, PeerConnectionConstructor, PeerConnectionLike, ResponseLike, VideoLike, WatchWhepOptions, WhepAnswer, WhepSession } from './whep.js';
export * from './types.js';
