export * from './dashboard.js';
export { jsonDepth } from '../protocol/index.js';
export type { CocoRle, FrameMessage, MaskFormat, WireObject } from '../protocol/index.js';
export * from './messages.js';
export * from './polygons.js';
export * from './rejectionLog.js';
export * from './rle.js';
export * from './server.js';
export * from './simplify.js';
