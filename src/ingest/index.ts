export * from './cameraSource.js';
export * from './ffmpegArgs.js';
export * from './frameAssembler.js';
export * from './probe.js';
export * from './sourceSpec.js';
