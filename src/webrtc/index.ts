export * from './cameraVideo.js';
export * from './whep.js';
export * from './wrtc.js';
