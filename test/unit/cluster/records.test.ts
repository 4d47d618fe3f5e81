import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nkeys } from '@nats-io/transport-node';
import { afterAll, describe, expect, it } from 'vitest';
import { displayBrokerUrl, readNkeySeed } from '../../../src/cluster/nats.js';
import { parseLease, parseNodeRecord, parsePoolEntry, type NodeRecord } from '../../../src/cluster/records.js';
import { HOSTILE_VALUES, PROTOTYPE_NAMES } from '../../helpers/hostile.js';
import { thrownSegstreamError } from '../../helpers/errors.js';
import { rng } from '../../helpers/random.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

const validRecord: NodeRecord = {
  name: 'node-a',
  capacity: 4,
  cameras: [
    {
      id: 'cam.1',
      kind: 'file',
      url: 'clip.mp4',
      enabled: true,
      state: 'streaming',
      restarts: 0,
      framesRead: 10,
      framesProcessed: 9,
      framesDropped: 1,
      framesGated: 0,
      frameAgeS: 0.1,
      origin: 'api',
      node: 'node-a',
    },
  ],
  load: { fps: 12.5, inferenceMs: null },
  heartbeat: 1_700_000_000_000,
  startedAt: 1_699_999_000_000,
  model: { file: 'yolov8n-seg.onnx', classes: ['person'], input: [640, 640] },
  inference: { device: 'cpu', requested: ['cpu'], unavailable: [] },
  offers: { whep: false },
  http: { port: 8080 },
};

const parsers = { parseLease, parseNodeRecord, parsePoolEntry } as const;

/** Every parser on some bytes: none throws; returns what each gave. */
function parseAll(bytes: Uint8Array): Record<keyof typeof parsers, unknown> {
  return { parseLease: parseLease(bytes), parseNodeRecord: parseNodeRecord(bytes), parsePoolEntry: parsePoolEntry(bytes) };
}

describe('parseLease / parseNodeRecord / parsePoolEntry', () => {
  it('accept what a node and the gateway write', () => {
    expect(parseLease(enc(JSON.stringify({ node: 'node-a', since: 123 })))).toEqual({ node: 'node-a', since: 123 });
    expect(parseNodeRecord(enc(JSON.stringify(validRecord)))).toEqual(validRecord);
    expect(parsePoolEntry(enc(JSON.stringify({ id: 'cam.1', url: 'rtsp://cam/s' })))).toMatchObject({ id: 'cam.1', url: 'rtsp://cam/s', enabled: true });
  });

  it('reject garbage bytes without throwing', () => {
    const r = rng(3);
    const samples: Uint8Array[] = [new Uint8Array(0), Uint8Array.from([0xff, 0xfe, 0x00]), enc('{'), enc('{"node":'), enc('nul'), Uint8Array.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d])];
    for (let i = 0; i < 200; i++) samples.push(Uint8Array.from({ length: Math.floor(r() * 64) }, () => Math.floor(r() * 256)));
    for (const b of samples) expect(parseAll(b)).toEqual({ parseLease: undefined, parseNodeRecord: undefined, parsePoolEntry: undefined });
  });

  it('reject every JSON value of the wrong kind', () => {
    for (const v of HOSTILE_VALUES) expect(parseAll(enc(v)), v.slice(0, 40)).toEqual({ parseLease: undefined, parseNodeRecord: undefined, parsePoolEntry: undefined });
  });

  it('reject leases of the wrong shape', () => {
    for (const v of [{}, { node: 'a' }, { since: 1 }, { node: '', since: 1 }, { node: 'x'.repeat(65), since: 1 }, { node: 1, since: 1 }, { node: 'a', since: '1' }, { node: 'a', since: null }, [{ node: 'a', since: 1 }]]) {
      expect(parseLease(enc(JSON.stringify(v))), JSON.stringify(v)).toBeUndefined();
    }
    // Infinity is not a time (1e400 parses to it).
    expect(parseLease(enc('{"node":"a","since":1e400}'))).toBeUndefined();
  });

  it('reject node records missing or breaking any field', () => {
    for (const k of Object.keys(validRecord) as (keyof NodeRecord)[]) {
      const { [k]: _drop, ...rest } = validRecord;
      expect(parseNodeRecord(enc(JSON.stringify(rest))), `without ${k}`).toBeUndefined();
    }
    const bad: Partial<Record<keyof NodeRecord, unknown>>[] = [
      { capacity: 0 },
      { capacity: 1.5 },
      { name: '' },
      { cameras: [{ id: 'x' }] },
      { cameras: {} },
      { load: { fps: -1, inferenceMs: null } },
      { load: { fps: 1 } },
      { heartbeat: '2024' },
      { http: { port: 'eighty' } },
      { offers: {} },
    ];
    for (const b of bad) expect(parseNodeRecord(enc(JSON.stringify({ ...validRecord, ...b }))), JSON.stringify(b)).toBeUndefined();
  });

  it('reject pool entries that are not cameras', () => {
    for (const v of [{}, { id: 'a' }, { url: 'x' }, { id: 'bad id', url: 'x' }, { id: 'a', url: 'x', unknownField: 1 }, { id: 'a', url: '' }, { id: 'a'.repeat(65), url: 'x' }]) {
      expect(parsePoolEntry(enc(JSON.stringify(v))), JSON.stringify(v)).toBeUndefined();
    }
  });

  it('prototype keys neither throw nor pollute, and never stand in for a field', () => {
    const protoBefore = Object.getOwnPropertyNames(Object.prototype).sort();
    for (const name of PROTOTYPE_NAMES) {
      const hostile = [
        `{"${name}":{"node":"evil","since":1,"polluted":true}}`,
        `{"node":"a","since":1,"${name}":{"polluted":true}}`,
        `{"id":"cam","url":"x","${name}":{"enabled":false,"polluted":true}}`,
        `{"${name}":${JSON.stringify(validRecord)}}`,
        `${JSON.stringify(validRecord).slice(0, -1)},"${name}":{"capacity":999,"polluted":true}}`,
      ];
      for (const text of hostile) {
        const out = parseAll(enc(text));
        for (const v of Object.values(out)) {
          if (v === undefined) continue;
          expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
          expect((v as Record<string, unknown>)['polluted']).toBeUndefined();
          expect(Object.prototype.hasOwnProperty.call(v, '__proto__')).toBe(false);
        }
      }
    }
    // What parsed kept its own fields, not the hostile ones.
    expect(parseLease(enc('{"node":"a","since":1,"__proto__":{"node":"evil"}}'))).toEqual({ node: 'a', since: 1 });
    expect(parseLease(enc('{"__proto__":{"node":"evil","since":1}}'))).toBeUndefined();
    const rec = parseNodeRecord(enc(`${JSON.stringify(validRecord).slice(0, -1)},"__proto__":{"capacity":999}}`));
    expect(rec?.capacity).toBe(4);
    // A camera entry is strict: the unknown key is refused, not dropped.
    expect(parsePoolEntry(enc('{"id":"cam","url":"x","__proto__":{"enabled":false}}'))).toBeUndefined();
    expect(parsePoolEntry(enc('{"id":"cam","url":"x","constructor":{"enabled":false}}'))).toBeUndefined();
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(protoBefore);
  });

  it('cope with deep nesting and huge inputs', () => {
    expect(parseAll(enc(`{"node":${'['.repeat(10000)}${']'.repeat(10000)},"since":1}`)).parseLease).toBeUndefined();
    expect(parseLease(enc(JSON.stringify({ node: 'a', since: 1, pad: 'x'.repeat(1 << 20) })))).toEqual({ node: 'a', since: 1 });
  });

  it('read a value from a view into a larger buffer (byteOffset respected)', () => {
    const text = JSON.stringify({ node: 'n', since: 5 });
    const big = new Uint8Array(100 + text.length + 50).fill(0x7b); // '{' around it
    big.set(enc(text), 100);
    expect(parseLease(big.subarray(100, 100 + text.length))).toEqual({ node: 'n', since: 5 });
  });
});

describe('displayBrokerUrl', () => {
  it('hides the password of one URL and keeps the rest', () => {
    expect(displayBrokerUrl('nats://alice:s3cret-pw@10.0.0.5:4222')).toBe('nats://alice:***@10.0.0.5:4222');
    expect(displayBrokerUrl('nats://10.0.0.5:4222')).toBe('nats://10.0.0.5:4222');
  });

  it('hides the password of each of several comma-separated URLs', () => {
    const shown = displayBrokerUrl('nats://a:pw-one@h1:4222, tls://b:pw-two@h2:4223,nats://h3:4222');
    expect(shown).not.toMatch(/pw-one|pw-two/);
    expect(shown.split(',')).toEqual(['nats://a:***@h1:4222', 'tls://b:***@h2:4223', 'nats://h3:4222']);
  });

  it('hides a password with awkward characters (percent-encoded, @ in it)', () => {
    expect(displayBrokerUrl('nats://u:p%40ss%2Fw0rd@h:4222')).toBe('nats://u:***@h:4222');
    expect(displayBrokerUrl('nats://u:p@ss@h:4222')).not.toMatch(/p@ss|ss@/);
  });

  it('hides the password of a server given without its scheme', () => {
    // NatsBroker.connect accepts host:port without nats:// (it reads it as nats://).
    expect(displayBrokerUrl('alice:s3cret-pw@127.0.0.1:4222')).toBe('alice:***@127.0.0.1:4222');
    expect(displayBrokerUrl('nats://h1:4222,bob:pw-two@h2:4222')).toBe('nats://h1:4222,bob:***@h2:4222');
    expect(displayBrokerUrl('127.0.0.1:4222')).toBe('127.0.0.1:4222');
  });
});

describe('readNkeySeed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'segstream-nkey-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const seed = new TextDecoder().decode(nkeys.createUser().getSeed());

  it('the generated seed is a user seed', () => {
    expect(seed).toMatch(/^SU[A-Z2-7]{56}$/);
  });

  it('E_CONFIG naming the field for a missing file', () => {
    const path = join(dir, 'missing.nk');
    const err = thrownSegstreamError(() => readNkeySeed(path));
    expect(err.code).toBe('E_CONFIG');
    expect(err.message).toContain('broker.nkeySeedFile');
    expect(err.message).toContain(path);
  });

  it('E_CONFIG for a file without a user seed (empty, text, an account seed, a public key)', () => {
    const account = new TextDecoder().decode(nkeys.createAccount().getSeed());
    const pub = nkeys.createUser().getPublicKey();
    for (const [i, text] of ['', 'hello\n', account, pub, `${seed.slice(0, 20)}\n`, seed.toLowerCase()].entries()) {
      const path = join(dir, `bad${i}.nk`);
      writeFileSync(path, text);
      const err = thrownSegstreamError(() => readNkeySeed(path));
      expect(err.code, JSON.stringify(text)).toBe('E_CONFIG');
      expect(err.message).toContain('broker.nkeySeedFile');
      // A bad file's content is never echoed (it may be another secret).
      if (text.length > 8) expect(err.message).not.toContain(text.trim());
    }
  });

  it('returns the seed alone from a file with text around it (as `nsc` writes creds files)', () => {
    const path = join(dir, 'user.creds');
    writeFileSync(path, `-----BEGIN USER NKEY SEED-----\n${seed}\n------END USER NKEY SEED------\n\n*************************************************************\n`);
    expect(readNkeySeed(path)).toBe(seed);
    const plain = join(dir, 'plain.nk');
    writeFileSync(plain, `  ${seed}\r\n`);
    expect(readNkeySeed(plain)).toBe(seed);
  });
});
