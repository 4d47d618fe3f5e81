export * from './cameraSource.js';
export * from './ffmpegArgs.js';
export * from './ffmpegReport.js';
export * from './frameAssembler.js';
export * from './frameSync.js';
export * from './pacer.js';
export * from './sourceSpec.js';
export * from './sourcePolicy.js';
