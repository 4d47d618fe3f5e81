export * from './messages.js';
export * from './rle.js';
export * from './server.js';
