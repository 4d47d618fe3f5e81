import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CameraStateStore,
  mergeConfig,
  parseConfig,
  readCameraState,
  readConfigFile,
  resolveCameras,
  statePathFor,
  writeCameraState,
  type CameraEntry,
  type CameraState,
} from '../../../src/config/index.js';
import { thrownSegstreamError } from '../../helpers/errors.js';

const DIR = mkdtempSync(join(tmpdir(), 'segstream-load-'));
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

let n = 0;
/** A new file in DIR with `text`, named `<n>-<name>`. */
function file(name: string, text: string): string {
  const p = join(DIR, `${n++}-${name}`);
  writeFileSync(p, text);
  return p;
}

const VIDEO = file('clip.mp4', 'a regular file: only its kind is checked');
const MEDIA = join(DIR, 'media');
mkdirSync(MEDIA);
const MEDIA_VIDEO = join(MEDIA, 'inside.mp4');
writeFileSync(MEDIA_VIDEO, 'x');

describe('readConfigFile', () => {
  it('reads YAML', () => {
    const p = file('a.yaml', 'server:\n  port: 0\ncameras:\n  - id: gate\n    url: rtsp://10.0.0.1/s\n');
    expect(readConfigFile(p)).toEqual({ server: { port: 0 }, cameras: [{ id: 'gate', url: 'rtsp://10.0.0.1/s' }] });
  });

  it('reads JSON for .json (any case), and YAML for any other name', () => {
    expect(readConfigFile(file('a.json', '{"server":{"port":1}}'))).toEqual({ server: { port: 1 } });
    expect(readConfigFile(file('a.JSON', '{"server":{"port":2}}'))).toEqual({ server: { port: 2 } });
    // YAML is a superset of JSON, but a YAML-only construct shows which parser ran.
    expect(readConfigFile(file('segstream.conf', 'server: {port: 3}\n'))).toEqual({ server: { port: 3 } });
    expect(thrownSegstreamError(() => readConfigFile(file('b.json', 'server: {port: 3}\n'))).message).toContain('not valid JSON');
  });

  it('a JSON syntax error is E_CONFIG naming the file', () => {
    const p = file('bad.json', '{"server": {"port": 1,}}');
    const err = thrownSegstreamError(() => readConfigFile(p));
    expect(err.code).toBe('E_CONFIG');
    expect(err.message).toContain(`${p}: not valid JSON`);
  });

  it('a YAML syntax error is E_CONFIG naming the file', () => {
    const p = file('tab.yaml', 'server:\n  port: 8080\n\tbad: 1\n');
    const err = thrownSegstreamError(() => readConfigFile(p));
    expect(err.code).toBe('E_CONFIG');
    expect(err.message).toContain(p);
    expect(err.message).toContain('not valid YAML');
  });

  it('a YAML syntax error names the line: `<file>:3: not valid YAML`', () => {
    const p = file('tab-line.yaml', 'server:\n  port: 8080\n\tbad: 1\n');
    expect(thrownSegstreamError(() => readConfigFile(p)).message).toContain(`${p}:3: not valid YAML`);
  });

  it('refuses duplicate keys, at any depth', () => {
    for (const text of ['server:\n  port: 1\nserver:\n  port: 2\n', 'server:\n  port: 1\n  port: 2\n']) {
      const err = thrownSegstreamError(() => readConfigFile(file('dup.yaml', text)));
      expect(err.code).toBe('E_CONFIG');
      expect(err.message).toMatch(/unique/i);
    }
  });

  it('an alias bomb ("billion laughs") fails with E_CONFIG quickly instead of expanding', () => {
    // 9 levels of 9 aliases each: 9^9 (387 million) strings if expanded.
    const lines = ['a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (let i = 1; i < 10; i++) lines.push(`a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(', ')}]`);
    const p = file('bomb.yaml', `${lines.join('\n')}\n`);
    const t0 = performance.now();
    const err = thrownSegstreamError(() => readConfigFile(p));
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(err.code).toBe('E_CONFIG');
    expect(err.message).toContain(p);
  });

  it('a few aliases are fine (shared camera settings)', () => {
    const p = file('alias.yaml', 'x: &opts {reconnectMaxMs: 5000}\ncameras:\n  - {id: a, url: "rtsp://h/a", <<: *opts}\n');
    // YAML 1.2 has no merge key: `<<` is an ordinary key, which the schema then refuses.
    expect(() => parseConfig(readConfigFile(p))).toThrow(/unknown key/);
    const q = file('alias2.yaml', 'ingest:\n  mediaRoots: &roots [/srv/a]\n');
    expect(readConfigFile(q)).toEqual({ ingest: { mediaRoots: ['/srv/a'] } });
  });

  it.each([
    ['YAML', 'proto.yaml', '__proto__:\n  polluted: true\nserver:\n  __proto__: {polluted: true}\n'],
    ['JSON', 'proto.json', '{"__proto__": {"polluted": true}, "server": {"__proto__": {"polluted": true}}}'],
  ])('a __proto__ key (%s) stays a key, refused as unknown by parseConfig, and pollutes no prototype', (_, name, text) => {
    const raw = readConfigFile(file(name, text)) as Record<string, unknown>;
    expect(Object.getPrototypeOf(raw)).toBe(Object.prototype);
    expect(Object.hasOwn(raw, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    const err = thrownSegstreamError(() => parseConfig(raw));
    expect(err.code).toBe('E_CONFIG');
    expect(err.message).toContain('__proto__');
    // Merged with flags (as `segstream run` does), still a key, still refused.
    const merged = mergeConfig(raw, { server: { port: 0 } }) as Record<string, unknown>;
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect(Object.hasOwn(merged['server'] as object, '__proto__')).toBe(true);
    expect(() => parseConfig(merged)).toThrow(/__proto__/);
  });

  it('a directory, a missing file and a file over 1 MiB are E_CONFIG naming the path', () => {
    const missing = join(DIR, 'missing.yaml');
    const big = file('big.yaml', `# ${'x'.repeat(1 << 20)}\n`);
    for (const p of [DIR, missing, big]) {
      const err = thrownSegstreamError(() => readConfigFile(p));
      expect(err.code).toBe('E_CONFIG');
      expect(err.message).toContain(p);
    }
    expect(thrownSegstreamError(() => readConfigFile(big)).message).toContain('larger than 1 MiB');
    // Exactly 1 MiB is read.
    const max = file('max.yaml', `#${'x'.repeat((1 << 20) - 2)}\n`);
    expect(statSync(max).size).toBe(1 << 20);
    // Only a comment: an empty file, so an empty mapping (every default).
    expect(readConfigFile(max)).toEqual({});
  });

  it('an empty file is an empty mapping; a list or a scalar at the top is E_CONFIG naming the file', () => {
    expect(readConfigFile(file('empty.yaml', ''))).toEqual({});
    for (const [name, text] of [['list.yaml', '- server\n- cameras\n'], ['scalar.yaml', 'port 8080\n'], ['list.json', '[1]']] as const) {
      const p = file(name, text);
      const err = thrownSegstreamError(() => readConfigFile(p));
      expect([err.code, err.message.startsWith(`${p}: a configuration is a mapping`)], name).toEqual(['E_CONFIG', true]);
    }
  });
});

describe('mergeConfig', () => {
  it('merges mappings key by key, the second winning, and replaces arrays and values', () => {
    const base = { server: { port: 80, host: 'h' }, ingest: { mediaRoots: ['/a', '/b'] }, cameras: [{ id: 'a', url: 'u' }] };
    const over = { server: { port: 0 }, ingest: { mediaRoots: ['/c'] }, tracking: { enabled: false } };
    expect(mergeConfig(base, over)).toEqual({ server: { port: 0, host: 'h' }, ingest: { mediaRoots: ['/c'] }, cameras: [{ id: 'a', url: 'u' }], tracking: { enabled: false } });
  });

  it('changes neither of its arguments', () => {
    const base = { server: { port: 80 } };
    const over = { server: { host: 'h' } };
    mergeConfig(base, over);
    expect([base, over]).toEqual([{ server: { port: 80 } }, { server: { host: 'h' } }]);
  });

  it('keeps the base where the override is undefined, and takes the override over a non-mapping', () => {
    expect(mergeConfig({ a: 1 }, undefined)).toEqual({ a: 1 });
    expect(mergeConfig({ a: { b: 1 } }, { a: 5 })).toEqual({ a: 5 });
    expect(mergeConfig({ a: 5 }, { a: { b: 1 } })).toEqual({ a: { b: 1 } });
  });

  it('an own __proto__ key of the override becomes an own key, not the prototype', () => {
    const over = JSON.parse('{"__proto__": {"x": 1}}') as Record<string, unknown>;
    const out = mergeConfig({}, over) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(['__proto__']);
    expect((out as { x?: unknown }).x).toBeUndefined();
  });
});

describe('state files', () => {
  it('statePathFor puts <name>.state.json beside the configuration', () => {
    expect(statePathFor('/etc/segstream/segstream.yaml')).toBe('/etc/segstream/segstream.state.json');
    expect(statePathFor('/etc/segstream/site.json')).toBe('/etc/segstream/site.state.json');
    expect(statePathFor('conf/site.prod.yml')).toBe(join('conf', 'site.prod.state.json'));
    expect(statePathFor('segstream')).toBe('segstream.state.json');
  });

  it('an absent state file is an empty state', () => {
    expect(readCameraState(join(DIR, 'none.state.json'))).toEqual({ version: 1, cameras: {} });
  });

  it.each([
    ['not JSON', '{"version":1,'],
    ['no version', '{"cameras":{}}'],
    ['another version', '{"version":2,"cameras":{}}'],
    ['cameras a list', '{"version":1,"cameras":[]}'],
    ['an entry neither object nor null', '{"version":1,"cameras":{"gate":"rtsp://h/s"}}'],
    ['a list', '[]'],
  ])('a state file that is %s is E_CONFIG naming the file', (_, text) => {
    const p = file('bad.state.json', text);
    const err = thrownSegstreamError(() => readCameraState(p));
    expect(err.code).toBe('E_CONFIG');
    expect(err.message).toContain(p);
  });

  it('a state file that is a directory or over 1 MiB is E_CONFIG', () => {
    expect(thrownSegstreamError(() => readCameraState(DIR)).code).toBe('E_CONFIG');
    const big = file('big.state.json', `{"version":1,"cameras":{},"pad":"${'x'.repeat(1 << 20)}"}`);
    expect(thrownSegstreamError(() => readCameraState(big)).message).toContain('larger than 1 MiB');
  });

  it('each entry takes its id from its key', () => {
    const p = file('ids.state.json', '{"version":1,"cameras":{"gate":{"id":"other","url":"rtsp://h/s"},"yard":null}}');
    expect(readCameraState(p)).toEqual({ version: 1, cameras: { gate: { id: 'gate', url: 'rtsp://h/s' }, yard: null } });
  });

  it('writeCameraState round-trips through readCameraState, replaces the file whole and leaves no temporary file', () => {
    const dir = mkdtempSync(join(DIR, 'state-'));
    const p = join(dir, 'segstream.state.json');
    const first: CameraState = { version: 1, cameras: { a: { id: 'a', url: 'rtsp://h/a', enabled: false }, b: null, c: { id: 'c', url: 'rtsp://h/c' } } };
    writeCameraState(p, first);
    expect(readCameraState(p)).toEqual(first);
    const second: CameraState = { version: 1, cameras: { b: null } };
    writeCameraState(p, second);
    expect(readCameraState(p)).toEqual(second);
    expect(JSON.parse(readFileSync(p, 'utf8'))).toEqual(second);
    expect(readdirSync(dir)).toEqual(['segstream.state.json']);
    // It may hold camera URLs with credentials: only the owner reads it.
    expect(statSync(p).mode & 0o777).toBe(0o600);
  });
});

describe('resolveCameras', () => {
  const configured = parseConfig({
    cameras: [
      { id: 'a', url: 'rtsp://h/a' },
      { id: 'b', url: 'rtsp://h/b' },
      { id: 'c', url: 'rtsp://h/c' },
      { id: 'f', url: VIDEO },
    ],
  });
  const state = (cameras: CameraState['cameras']): CameraState => ({ version: 1, cameras });

  it('without a state, the configured cameras in order, origin config, ingest defaults filled in', () => {
    const cams = resolveCameras(configured);
    expect(cams.map((c) => [c.id, c.origin])).toEqual([['a', 'config'], ['b', 'config'], ['c', 'config'], ['f', 'config']]);
    expect(cams[0]!.source).toMatchObject({ reconnectMinMs: 1000, reconnectMaxMs: 30_000, tlsVerify: true, realtime: true });
    expect(cams[0]!.confidence).toBe(0.25);
  });

  it('an API-changed camera replaces the configured one in place, API-added ones come last, null removes', () => {
    const cams = resolveCameras(configured, state({ d: { id: 'd', url: 'rtsp://h/d' }, b: { id: 'b', url: 'rtsp://h/b2', reconnectMaxMs: 5000 }, c: null }), 'x.state.json');
    expect(cams.map((c) => [c.id, c.url, c.origin])).toEqual([
      ['a', 'rtsp://h/a', 'config'],
      ['b', 'rtsp://h/b2', 'api'],
      ['f', VIDEO, 'config'],
      ['d', 'rtsp://h/d', 'api'],
    ]);
    expect(cams[1]!.source.reconnectMaxMs).toBe(5000);
  });

  it('a null for a camera the configuration does not have changes nothing', () => {
    expect(resolveCameras(configured, state({ zz: null })).map((c) => c.id)).toEqual(['a', 'b', 'c', 'f']);
  });

  it('an API url naming a local file needs a media root', () => {
    const err = thrownSegstreamError(() => resolveCameras(configured, state({ d: { id: 'd', url: VIDEO } }), '/etc/s.state.json'));
    expect(err.code).toBe('E_SOURCE_REFUSED');
    expect(err.message).toContain('/etc/s.state.json: cameras.d.url');
    expect(err.message).toContain('media roots');
    // The API's url for a configured camera is the API's too.
    expect(thrownSegstreamError(() => resolveCameras(configured, state({ a: { id: 'a', url: VIDEO } }))).code).toBe('E_SOURCE_REFUSED');
    // Inside a media root it is fine.
    const rooted = parseConfig({ ingest: { mediaRoots: [MEDIA] } });
    expect(resolveCameras(rooted, state({ d: { id: 'd', url: MEDIA_VIDEO } })).map((c) => c.id)).toEqual(['d']);
  });

  it('a state entry keeping the configured local file url needs no media root', () => {
    const cams = resolveCameras(configured, state({ f: { id: 'f', url: VIDEO, enabled: false } }));
    expect(cams.find((c) => c.id === 'f')).toMatchObject({ origin: 'api', enabled: false, url: VIDEO });
  });

  it('an invalid state entry is E_CONFIG naming the state file and the camera', () => {
    const err = thrownSegstreamError(() => resolveCameras(configured, state({ b: { id: 'b', url: 'rtsp://h/b', reconnectMaxMs: 1 } }), 'x.state.json'));
    expect(err.code).toBe('E_CONFIG');
    expect(err.message).toContain('x.state.json: cameras.b');
    expect(err.message).toContain('reconnectMaxMs');
    const rule = thrownSegstreamError(() => resolveCameras(configured, state({ b: { id: 'b', url: 'rtsp://h/b', reconnectMaxMs: 500 } }), 'x.state.json'));
    expect(rule.message).toContain('x.state.json: cameras.b.reconnectMaxMs');
  });

  it('API-added cameras count against ingest.maxCameras', () => {
    const cfg = parseConfig({ ingest: { maxCameras: 2 }, cameras: [{ id: 'a', url: 'rtsp://h/a' }, { id: 'b', url: 'rtsp://h/b' }] });
    const err = thrownSegstreamError(() => resolveCameras(cfg, state({ d: { id: 'd', url: 'rtsp://h/d' } }), 'x.state.json'));
    expect(err.code).toBe('E_CONFIG');
    expect(err.message).toContain('ingest.maxCameras');
    expect(resolveCameras(cfg, state({ d: { id: 'd', url: 'rtsp://h/d' }, a: null })).map((c) => c.id)).toEqual(['b', 'd']);
  });
});

describe('CameraStateStore', () => {
  const A: CameraEntry = { id: 'a', url: 'rtsp://h/a', enabled: true };
  const storeIn = (initial?: CameraState) => {
    const p = join(mkdtempSync(join(DIR, 'store-')), 'segstream.state.json');
    return { p, store: new CameraStateStore(p, initial) };
  };

  it('record writes the state file after each change; a removed configured camera stays as null', () => {
    const { p, store } = storeIn();
    store.record('d', { id: 'd', url: 'rtsp://h/d', enabled: true }, undefined);
    expect(readCameraState(p)).toEqual({ version: 1, cameras: { d: { id: 'd', url: 'rtsp://h/d', enabled: true } } });
    store.record('a', null, A);
    expect(readCameraState(p)).toEqual({ version: 1, cameras: { d: { id: 'd', url: 'rtsp://h/d', enabled: true }, a: null } });
    expect(store.current).toEqual(readCameraState(p));
  });

  it('for a configured camera keeps only the fields the API changed; none changed: no entry', () => {
    const { p, store } = storeIn();
    store.record('a', { ...A, confidence: 0.5 }, A);
    expect(readCameraState(p).cameras).toEqual({ a: { id: 'a', confidence: 0.5 } });
    store.record('a', { ...A }, A);
    expect(readCameraState(p).cameras).toEqual({});
    // Laid over a file whose URL changed since, the change still applies and the new URL too.
    const cfg = parseConfig({ cameras: [{ id: 'a', url: 'rtsp://h/moved' }] });
    store.record('a', { ...A, confidence: 0.5 }, A);
    expect(resolveCameras(cfg, store.current).map((c) => [c.url, c.confidence])).toEqual([['rtsp://h/moved', 0.5]]);
  });

  it('the undo it returns puts the state back, in memory and on disk', () => {
    const { p, store } = storeIn();
    const undo = store.record('d', { id: 'd', url: 'rtsp://h/d', enabled: true }, undefined);
    undo();
    expect(readCameraState(p).cameras).toEqual({});
    expect(store.current.cameras).toEqual({});
  });

  it('a state file that cannot be written changes nothing and throws', () => {
    const store = new CameraStateStore(join(DIR, 'no-such-dir', 'x.state.json'));
    expect(() => store.record('d', { id: 'd', url: 'rtsp://h/d', enabled: true }, undefined)).toThrow();
    expect(store.current.cameras).toEqual({});
  });

  it('removing a camera that only the API added leaves no entry behind', () => {
    const { p, store } = storeIn({ version: 1, cameras: { d: { id: 'd', url: 'rtsp://h/d' } } });
    store.record('d', null, undefined);
    expect(readCameraState(p)).toEqual({ version: 1, cameras: {} });
  });

  it('starts from the state it is given and, without a path, writes nothing', () => {
    const initial: CameraState = { version: 1, cameras: { a: null } };
    const store = new CameraStateStore(undefined, initial);
    store.record('b', { id: 'b', url: 'rtsp://h/b', enabled: true }, undefined);
    expect(store.current.cameras).toEqual({ a: null, b: { id: 'b', url: 'rtsp://h/b', enabled: true } });
    // The caller's object is not changed.
    expect(initial).toEqual({ version: 1, cameras: { a: null } });
  });

  it('keeps a camera whose id is __proto__ like any other', () => {
    const { p, store } = storeIn();
    store.record('__proto__', { id: '__proto__', url: 'rtsp://h/p', enabled: true }, undefined);
    expect(Object.keys(readCameraState(p).cameras)).toEqual(['__proto__']);
  });
});
