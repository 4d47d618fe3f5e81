export * from './camera.js';
export * from './manager.js';
export * from './api.js';
