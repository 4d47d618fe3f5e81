export * from './displayRing.js';
export * from './font.js';
export * from './i420.js';
export * from './scene.js';
export * from './overlayDrawer.js';
export * from './jpegFrames.js';
