export * from './dashboard.js';
export * from './jsonDepth.js';
export * from './messages.js';
export * from './rejectionLog.js';
export * from './rle.js';
export * from './server.js';
