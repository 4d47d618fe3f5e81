/**
 * The WebSocket protocol: one zod schema per message in each direction, the types inferred
 * from them, the limits a client message must keep, and the JSON Schema generated from them.
 * Depends on `core` only; `publish` (the server), `prompts` and the app build and parse
 * messages with it.
 */
export * from './client.js';
export * from './common.js';
export * from './jsonDepth.js';
export * from './jpeg.js';
export * from './jsonSchema.js';
export * from './limits.js';
export * from './server.js';
