export * from './types.js';
export * from './store.js';
export * from './webhook.js';
export * from './recorder.js';
export * from './routes.js';
export * from './snapshot.js';
