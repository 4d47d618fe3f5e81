import { describe, expect, it } from 'vitest';
import { CAMERA_ID_RE } from '../../../src/config/schema.js';
import { cameraFromToken, cameraToken, clusterNames } from '../../../src/cluster/subjects.js';
import { rng } from '../../helpers/random.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-';
/** What a NATS subject token and a KV key may not hold. */
const NOT_IN_TOKEN = /[.*>\s]/;
/** NATS KV keys: [-/_=.a-zA-Z0-9]+ (a token is used as one, so no '.' either). */
const KV_KEY_RE = /^[-/_=a-zA-Z0-9]+$/;

const edgeIds = ['a', '.', '..', '.a', 'a.', '.a.', 'a..b', 'cam.1.2', '-', '_', '-.-', 'A.b-C_d.9', 'x'.repeat(64), '.'.repeat(64), `${'a.'.repeat(32)}`];

function randomIds(n: number): string[] {
  const r = rng(7);
  return Array.from({ length: n }, () => {
    const len = 1 + Math.floor(r() * 64);
    let s = '';
    for (let i = 0; i < len; i++) s += ALPHABET[Math.floor(r() * ALPHABET.length)];
    return s;
  });
}

describe('cameraToken / cameraFromToken', () => {
  const ids = [...edgeIds, ...randomIds(500)];

  it('the ids tested are camera ids', () => {
    for (const id of ids) expect(CAMERA_ID_RE.test(id), id).toBe(true);
  });

  it('round-trips every camera id', () => {
    for (const id of ids) expect(cameraFromToken(cameraToken(id))).toBe(id);
  });

  it('makes one subject token and a valid KV key of any id: no ., *, > or whitespace', () => {
    for (const id of ids) {
      const t = cameraToken(id);
      expect(t, id).not.toMatch(NOT_IN_TOKEN);
      expect(t, id).toMatch(KV_KEY_RE);
      expect(t.length).toBe(id.length);
    }
  });

  it('maps different ids to different tokens', () => {
    const unique = [...new Set(ids)];
    expect(new Set(unique.map(cameraToken)).size).toBe(unique.length);
  });

  it('leaves ids without dots as they are', () => {
    expect(cameraToken('cam_1-a')).toBe('cam_1-a');
  });
});

describe('clusterNames', () => {
  const n = clusterNames('seg-1');
  const kinds = ['frames', 'status', 'targets', 'events', 'snapshots', 'control'] as const;

  it('names subjects <prefix>.<kind>.<token> and buckets <prefix>-<name>', () => {
    expect(n.frames('a.b')).toBe('seg-1.frames.a=b');
    expect(n.control('cam')).toBe('seg-1.control.cam');
    expect([n.poolBucket, n.leaseBucket, n.nodeBucket, n.eventStream]).toEqual(['seg-1-cameras', 'seg-1-leases', 'seg-1-nodes', 'seg-1-events']);
  });

  it('cameraOf gives back the camera of each of its own subjects, dots included', () => {
    for (const id of [...edgeIds, ...randomIds(100)]) {
      for (const k of kinds) {
        const subject = n[k](id);
        expect(subject.split('.')).toHaveLength(3);
        expect(n.cameraOf(subject), subject).toBe(id);
      }
    }
  });

  it('the wildcards match its subjects: one token after <prefix>.<kind>', () => {
    const wild = (pattern: string, subject: string): boolean => {
      const p = pattern.split('.');
      const s = subject.split('.');
      return p.length === s.length && p.every((t, i) => t === '*' || t === s[i]);
    };
    for (const id of edgeIds) {
      expect(wild(n.allFrames, n.frames(id))).toBe(true);
      expect(wild(n.allStatus, n.status(id))).toBe(true);
      expect(wild(n.allTargets, n.targets(id))).toBe(true);
      expect(n.eventSubjects.some((p) => wild(p, n.events(id)))).toBe(true);
      expect(n.eventSubjects.some((p) => wild(p, n.snapshots(id)))).toBe(true);
      expect(wild(n.allFrames, n.status(id))).toBe(false);
    }
  });

  it('cameraOf is undefined for another prefix and for wrong shapes', () => {
    const other = clusterNames('seg');
    expect(n.cameraOf(other.frames('cam'))).toBeUndefined();
    expect(other.cameraOf(n.frames('cam'))).toBeUndefined();
    expect(n.cameraOf('seg-1X.frames.cam')).toBeUndefined();
    for (const s of ['', 'seg-1', 'seg-1.frames', 'seg-1.frames.', 'seg-1.frames.a.b', 'seg-1.frames.cam.extra', '.seg-1.frames.cam', 'frames.cam', 'x.seg-1.frames.cam']) {
      expect(n.cameraOf(s), s).toBeUndefined();
    }
  });

  it('two prefixes never share a subject or bucket', () => {
    const a = clusterNames('a');
    const b = clusterNames('a-b');
    expect(a.frames('b.frames.c')).not.toBe(b.frames('c'));
    expect(a.cameraOf(b.frames('c'))).toBeUndefined();
    expect(a.poolBucket).not.toBe(b.poolBucket);
  });
});
