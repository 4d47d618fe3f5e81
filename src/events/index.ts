export * from './types.js';
export * from './store.js';
export * from './webhook.js';
