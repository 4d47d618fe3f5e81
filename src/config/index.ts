export * from './schema.js';
export * from './rules.js';
export * from './load.js';
export * from './paths.js';
export * from './cameras.js';
