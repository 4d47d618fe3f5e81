export * from './errors.js';
export * from './frame.js';
export * from './geometry.js';
export * from './detections.js';
export * from './logger.js';
export * from './redact.js';
export * from './workers.js';
export * from './validation.js';
