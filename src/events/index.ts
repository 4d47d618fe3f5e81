export * from './types.js';
export * from './zones.js';
export * from './rules.js';
export * from './health.js';
