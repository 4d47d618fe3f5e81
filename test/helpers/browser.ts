import { chromium, type Browser } from 'playwright-core';

/** Debian's headless Chromium, as this machine runs it (no sandbox as root, nothing fetched). */
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Launches /usr/bin/chromium with its own fresh profile; `webrtc` allows loopback ICE candidates. */
export function launchChromium(opts: { webrtc?: boolean } = {}): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: [...CHROMIUM_ARGS, ...(opts.webrtc ? ['--allow-loopback-in-peer-connection'] : [])] });
}
