import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Subscription } from 'rxjs';
import { basename } from 'node:path';
import { isSegstreamError, parseWith, SegstreamError, type Logger } from '../core/index.js';
import { cameraConfig, cameraSchema, type CameraConfig, type CameraEntry } from '../config/index.js';
import { statusMessage } from '../cameras/index.js';
import type { App } from '../app.js';
import { KvConflict, type Broker, type BrokerKv } from './broker.js';
import { KvMirror } from './kvMirror.js';
import { claimOrder, planPlacement } from './placement.js';
import { controlRequestSchema, parseLease, parseNodeRecord, parsePoolEntry, type ControlReply, type ControlRequest, type Lease, type NodeRecord, type RelayedHttp } from './records.js';
import { cameraFromToken, cameraToken, clusterNames, type ClusterNames } from './subjects.js';
import { EventForwarder } from './eventForwarder.js';
import { parseJsonBytes } from './kvMirror.js';

export interface ClusterNodeOptions {
  /** The node's pipeline: `startApp` with no cameras of its own. */
  readonly app: App;
  readonly broker: Broker;
  readonly name: string;
  readonly capacity: number;
  readonly prefix: string;
  /** The lease TTL to create the lease bucket with, ms (an existing bucket keeps its own). */
  readonly leaseTtlMs: number;
  readonly log: Logger;
  /** Counted: what could not be published (broker down) or was held back (lease not valid). */
  readonly counters?: { publishDropped(kind: string): void; fenced(): void; leases(n: number): void };
}

/**
 * A lease this node holds. `validUntil` (performance.now) is the send time of its last
 * successful write plus VALID_SHARE of the TTL: the broker ages the key out no sooner than a
 * full TTL after that write reached it, so a node that stops at `validUntil` has stopped before
 * any other node can take the camera.
 */
interface Held {
  revision: number;
  validUntil: number;
  readonly claimedAt: number;
  unserve: () => void;
}

/** Share of the TTL a lease is used for after its last renewal was sent. */
export const VALID_SHARE = 0.7;
/** Renewals a TTL (each tick renews every lease, then places cameras and beats). */
export const TICKS_PER_TTL = 5;

/**
 * One inference node of a cluster: claims cameras from the pool (`<p>-cameras`) by creating
 * their lease keys, renews them each tick, runs each camera through the app exactly as `run`
 * does, and publishes its frames, status, target messages and events to the broker. A lease
 * that cannot be renewed stops its camera before it can lapse; one taken by another node (a
 * compare-and-set that loses) stops it at once. See placement.ts for the spread.
 */
export class ClusterNode {
  private readonly names: ClusterNames;
  private readonly held = new Map<string, Held>();
  /** Cameras this node ran at some point: tried first when free again (after a broker outage). */
  private readonly ranBefore = new Set<string>();
  /** Pool cameras this node cannot run (its media roots, limits), by pool revision: not claimed again until they change. */
  private readonly refused = new Map<string, number>();
  private readonly subs: Subscription[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private ticking = false;
  private closing: Promise<void> | undefined;
  private readonly startedAt = Date.now();
  /** This process: a lease of this node's name but another instance (a restart, a namesake) is not this one's. */
  private readonly instance = randomUUID();
  private readonly window = { frames: 0, inferenceMs: 0, inferred: 0, since: performance.now() };

  private constructor(
    private readonly o: ClusterNodeOptions,
    private readonly pool: KvMirror<CameraEntry>,
    private readonly leases: KvMirror<Lease>,
    private readonly nodes: KvMirror<NodeRecord>,
    private readonly nodeKv: BrokerKv,
    private readonly ttlMs: number,
    private readonly events: EventForwarder,
  ) {
    this.names = clusterNames(o.prefix);
  }

  static async start(o: ClusterNodeOptions): Promise<ClusterNode> {
    const names = clusterNames(o.prefix);
    const { broker, log } = o;
    const leaseKv = await broker.kv(names.leaseBucket, { maxAgeMs: o.leaseTtlMs });
    const ttlMs = leaseKv.maxAgeMs;
    if (!(ttlMs > 0)) {
      throw new SegstreamError('E_CONFIG', `the broker's lease bucket ${names.leaseBucket} has no max age, so a dead node's cameras would never move; delete it (nats kv del ${names.leaseBucket}) and start again`, { expected: 'a bucket with a max age', actual: ttlMs });
    }
    if (Math.abs(ttlMs - o.leaseTtlMs) > 1) log.warn({ bucket: names.leaseBucket, ttlS: ttlMs / 1000, asked: o.leaseTtlMs / 1000 }, 'the lease bucket exists with another TTL: the cluster uses the bucket\'s');
    const poolKv = await broker.kv(names.poolBucket);
    const nodeKv = await broker.kv(names.nodeBucket, { maxAgeMs: ttlMs * 2 });
    const events = await EventForwarder.open(broker, names, o.app, log, o.counters ? (k) => o.counters!.publishDropped(k) : undefined);
    let node: ClusterNode | undefined;
    const pool = new KvMirror<CameraEntry>(poolKv, broker, parsePoolEntry, log, (key) => node?.poolChanged(cameraFromToken(key)));
    const leases = new KvMirror<Lease>(leaseKv, broker, parseLease, log, (key, now) => node?.leaseChanged(cameraFromToken(key), now?.value));
    const nodes = new KvMirror<NodeRecord>(nodeKv, broker, parseNodeRecord, log);
    node = new ClusterNode(o, pool, leases, nodes, nodeKv, ttlMs, events);
    await Promise.all([pool.start(), leases.start(), nodes.start()]);
    // Two live nodes of one name would each take the other's leases for their own.
    const same = nodes.get(o.name)?.value;
    if (same && Math.abs(Date.now() - same.heartbeat) < ttlMs) {
      pool.stop();
      leases.stop();
      nodes.stop();
      await events.close(0);
      throw new SegstreamError('E_CONFIG', `invalid configuration: broker.name: a node named '${o.name}' is live in the cluster (heartbeat ${Math.round((Date.now() - same.heartbeat) / 100) / 10} s ago); give this one another --name, or wait ${Math.ceil(ttlMs / 1000)} s if that node has just died`, { expected: 'a node name not in use', actual: o.name });
    }
    node.wire();
    log.info({ node: o.name, capacity: o.capacity, leaseTtlS: ttlMs / 1000, pool: pool.size }, 'cluster node joined');
    return node;
  }

  get name(): string {
    return this.o.name;
  }

  /** Cameras held now. */
  heldCameras(): string[] {
    return [...this.held.keys()];
  }

  private get tickMs(): number {
    return Math.max(100, this.ttlMs / TICKS_PER_TTL);
  }

  private wire(): void {
    const { app, broker, name } = this.o;
    const nodeJson = `{"node":${JSON.stringify(name)},`;
    this.subs.push(
      app.published$.subscribe((p) => {
        const camera = p.message.camera;
        const h = this.held.get(camera);
        if (!h || performance.now() >= h.validUntil) return void this.o.counters?.fenced();
        this.window.frames++;
        if (!p.message.gated) {
          this.window.inferenceMs += p.timings.inferenceMs;
          this.window.inferred++;
        }
        const targets = new Set<number>();
        for (const obj of p.message.objects) if (obj.target !== undefined) targets.add(obj.target);
        const json = p.frames.json('rle');
        const ok = broker.publish(this.names.frames(camera), nodeJson + json.slice(1), { node: name, lease: String(h.revision), targets: [...targets].join(',') });
        if (!ok) this.o.counters?.publishDropped('frame');
      }),
      app.cameras.status$.subscribe((st) => {
        // `removed` is the gateway's to say (the pool entry went); a camera this node gives up is not removed.
        if (st.state === 'removed' || !this.holdsValid(st.camera)) return;
        if (!broker.publish(this.names.status(st.camera), JSON.stringify({ ...statusMessage(st), node: name }))) this.o.counters?.publishDropped('status');
      }),
      app.targetMessages$.subscribe((m) => {
        if (!this.holdsValid(m.camera)) return;
        if (!broker.publish(this.names.targets(m.camera), JSON.stringify({ ...m, node: name }))) this.o.counters?.publishDropped('target');
      }),
    );
    // Leases are checked far more often than they are renewed: a camera stops within 100 ms of its lease running out.
    this.timers.push(setInterval(() => this.expire(), 100));
    this.timers.push(setInterval(() => void this.tick(), this.tickMs));
    for (const t of this.timers) t.unref();
    void this.tick();
  }

  private holdsValid(camera: string): boolean {
    const h = this.held.get(camera);
    return h !== undefined && performance.now() < h.validUntil;
  }

  /** One round: renew every lease, place cameras, beat. Rounds never overlap. */
  private async tick(): Promise<void> {
    if (this.ticking || this.closing) return;
    this.ticking = true;
    try {
      if (this.o.broker.connected) {
        await Promise.all([...this.held.keys()].map((c) => this.renew(c)));
        this.expire();
        await this.place();
        await this.beat();
      }
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message }, 'cluster round failed; next round in a moment');
    } finally {
      this.ticking = false;
    }
  }

  private async renew(camera: string): Promise<void> {
    const h = this.held.get(camera);
    if (!h) return;
    const sent = performance.now();
    try {
      const revision = await this.leases.kv.update(cameraToken(camera), this.leaseValue(h.claimedAt), h.revision);
      if (this.held.get(camera) !== h) return;
      h.revision = revision;
      h.validUntil = Math.max(h.validUntil, sent + this.ttlMs * VALID_SHARE);
    } catch (err) {
      if (err instanceof KvConflict) {
        this.o.log.warn({ camera }, 'lease taken by another node (or deleted): camera stopped here');
        await this.stop(camera, 'lost');
      }
      // Anything else (broker away, timeout): the lease runs out by itself if this goes on.
    }
  }

  private leaseValue(since: number): string {
    return JSON.stringify({ node: this.o.name, instance: this.instance, since } satisfies Lease);
  }

  /** Stops every camera whose lease could not be renewed in time. */
  private expire(): void {
    const now = performance.now();
    for (const [camera, h] of this.held) {
      if (now >= h.validUntil) {
        this.o.log.warn({ camera, leaseTtlS: this.ttlMs / 1000 }, 'lease not renewed in time (broker unreachable?): camera stopped before it could lapse');
        void this.stop(camera, 'lapsed');
      }
    }
  }

  private liveNodes(): NodeRecord[] {
    const now = performance.now();
    const out: NodeRecord[] = [];
    for (const [, n] of this.nodes.entries()) if (n.value.name !== this.o.name && now - n.seenAt < this.ttlMs) out.push(n.value);
    return out;
  }

  /** Whether a camera's lease looks free here: none, aged out (not renewed for a TTL). */
  private leaseFree(camera: string): boolean {
    const l = this.leases.get(cameraToken(camera));
    return !l || performance.now() - l.seenAt >= this.ttlMs;
  }

  private async place(): Promise<void> {
    const wanted: string[] = [];
    const free: string[] = [];
    for (const [key, e] of this.pool.entries()) {
      if (!e.value.enabled) continue;
      const camera = cameraFromToken(key);
      wanted.push(camera);
      if (this.held.has(camera) || this.refused.get(camera) === e.revision) continue;
      if (this.leaseFree(camera)) free.push(camera);
    }
    const others = this.liveNodes().map((n) => ({ name: n.name, capacity: n.capacity, cameras: n.cameras.length }));
    const held = [...this.held.entries()].sort((a, b) => a[1].claimedAt - b[1].claimedAt).map(([c]) => c);
    const plan = planPlacement({ self: this.o.name, capacity: this.o.capacity, held, wanted: wanted.length, free: claimOrder(this.o.name, free, this.ranBefore), others });
    for (const camera of plan.release) {
      this.o.log.info({ camera, node: this.o.name }, 'camera given up to spread the load (another node has room)');
      await this.stop(camera, 'released');
    }
    for (const camera of plan.claim) await this.claim(camera);
  }

  private async claim(camera: string): Promise<void> {
    const key = cameraToken(camera);
    const entry = this.pool.get(key);
    if (!entry || this.held.has(camera) || this.closing) return;
    let cfg: CameraConfig;
    try {
      cfg = this.configOf(entry.value, true);
    } catch (err) {
      this.refuse(camera, entry.revision, err);
      return;
    }
    const sent = performance.now();
    let revision: number;
    try {
      // Created, never taken over: a lease of this node's name from before a restart ages out like any other.
      revision = await this.leases.kv.create(key, this.leaseValue(Date.now()));
    } catch (err) {
      if (!(err instanceof KvConflict)) this.o.log.warn({ camera, err: (err as Error).message }, 'camera could not be claimed');
      return;
    }
    const h: Held = { revision, validUntil: sent + this.ttlMs * VALID_SHARE, claimedAt: Date.now(), unserve: () => undefined };
    this.held.set(camera, h);
    this.ranBefore.add(camera);
    this.o.counters?.leases(this.held.size);
    h.unserve = this.o.broker.serve(this.names.control(camera), (data) => this.control(camera, data));
    try {
      await this.o.app.cameras.add(cfg);
      // Lost while the add waited its turn: the camera goes again (stop found nothing to remove).
      if (this.held.get(camera) !== h) {
        await this.o.app.cameras.remove(camera).catch(() => undefined);
        return;
      }
      this.o.log.info({ camera, node: this.o.name, held: this.held.size }, 'camera claimed');
    } catch (err) {
      await this.stop(camera, 'released');
      this.refuse(camera, entry.revision, err);
    }
  }

  /** The camera's configuration on this node (its media roots and defaults); throws E_CONFIG / E_SOURCE_REFUSED. */
  private configOf(entry: CameraEntry, newSource: boolean): CameraConfig {
    return cameraConfig(entry, this.o.app.config, { field: 'camera', origin: 'api', requireMediaRoot: newSource });
  }

  private refuse(camera: string, revision: number, err: unknown): void {
    this.refused.set(camera, revision);
    const e = isSegstreamError(err) ? err : new SegstreamError('E_INTERNAL', (err as Error).message);
    this.o.log.warn({ camera, code: e.code, err: e.message }, 'this node cannot run the camera; left to other nodes');
    this.o.broker.publish(this.names.status(camera), JSON.stringify({ type: 'status', camera, state: 'failed', restarts: 0, error: e.toJSON(), node: this.o.name }));
  }

  /**
   * Stops a camera here. `released` and `shutdown` give the lease back (deleted at its
   * revision, so another node's is never touched); `lost` and `lapsed` leave it to whoever
   * holds it or to its age; `removed` (gone from the pool) gives it back too.
   */
  private async stop(camera: string, why: 'released' | 'shutdown' | 'lost' | 'lapsed' | 'removed'): Promise<void> {
    const h = this.held.get(camera);
    if (!h) return;
    this.held.delete(camera);
    this.o.counters?.leases(this.held.size);
    h.unserve();
    if (this.o.app.cameras.get(camera)) await this.o.app.cameras.remove(camera).catch(() => undefined);
    if (why === 'released' || why === 'shutdown' || why === 'removed') {
      await this.leases.kv.delete(cameraToken(camera), h.revision).catch(() => undefined);
    }
    if (why !== 'shutdown') this.o.log.info({ camera, node: this.o.name, why }, 'camera stopped on this node');
  }

  private leaseChanged(camera: string, lease: Lease | undefined): void {
    const h = this.held.get(camera);
    if (h && lease && (lease.node !== this.o.name || lease.instance !== this.instance)) {
      this.o.log.warn({ camera, holder: lease.node }, 'another node holds this camera\'s lease: stopped here');
      void this.stop(camera, 'lost');
    }
  }

  /** A pool entry changed: a camera running here follows it (in place, restarted, or stopped). */
  private poolChanged(camera: string): void {
    const e = this.pool.get(cameraToken(camera));
    if (this.refused.has(camera) && this.refused.get(camera) !== e?.revision) this.refused.delete(camera);
    if (!this.held.has(camera)) return;
    if (!e || !e.value.enabled) return void this.stop(camera, 'removed');
    const cam = this.o.app.cameras.get(camera);
    if (!cam || JSON.stringify(cam.config.entry) === JSON.stringify(e.value)) return;
    let cfg: CameraConfig;
    try {
      cfg = this.configOf(e.value, e.value.url !== cam.config.entry.url);
    } catch (err) {
      void this.stop(camera, 'released').then(() => this.refuse(camera, e.revision, err));
      return;
    }
    this.o.app.cameras.update(cfg).catch((err: unknown) => this.o.log.error({ camera, err }, 'camera change from the pool not applied'));
  }

  /** Answers a control request for a camera this node runs (prompts, changes, WHEP). */
  private async control(camera: string, data: Uint8Array): Promise<string> {
    const reply = (r: ControlReply): string => JSON.stringify(r);
    try {
      if (!this.holdsValid(camera)) throw new SegstreamError('E_NO_NODE', `camera ${camera} is not running on node ${this.o.name} now`);
      const req = parseWith(controlRequestSchema, parseJsonBytes(data), 'E_MSG_INVALID', 'invalid control request:') as ControlRequest;
      if (req.op === 'prompt') return reply({ ok: true, body: await this.o.app.cameras.handlePrompt(req.message) });
      if (req.op === 'update') {
        const entry = parseWith(cameraSchema, req.entry, 'E_CONFIG', 'invalid camera:');
        if (entry.id !== camera) throw new SegstreamError('E_MSG_INVALID', 'the change names another camera', { expected: camera, actual: entry.id });
        const cam = this.o.app.cameras.require(camera);
        const cfg = this.configOf(entry, entry.url !== cam.config.entry.url);
        const restarted = await this.o.app.cameras.update(cfg);
        return reply({ ok: true, body: { restarted, camera: { ...this.o.app.cameras.require(camera).view(), node: this.o.name } } });
      }
      return reply({ ok: true, body: await this.relayHttp(camera, req) });
    } catch (err) {
      const e = isSegstreamError(err) ? err : new SegstreamError('E_INTERNAL', 'the node could not answer', { cause: err });
      if (!isSegstreamError(err)) this.o.log.error({ err, camera }, 'control request failed');
      return reply({ ok: false, error: e.toJSON() });
    }
  }

  /**
   * A WHEP request relayed by the gateway, made to this node's own server on loopback, so the
   * node answers with its own SDP (its ICE candidates: video goes from here to the browser).
   * Only the camera's own WHEP resources may be asked for.
   */
  private async relayHttp(camera: string, req: Extract<ControlRequest, { op: 'http' }>): Promise<RelayedHttp> {
    const base = `/whep/${encodeURIComponent(camera)}`;
    if (req.path !== base && !req.path.startsWith(`${base}/`)) throw new SegstreamError('E_MSG_INVALID', 'only the camera\'s WHEP resources are relayed', { expected: `${base}[/<session>]` });
    if (!['POST', 'PATCH', 'DELETE', 'OPTIONS'].includes(req.method)) throw new SegstreamError('E_MSG_INVALID', 'method not relayed', { expected: 'POST, PATCH, DELETE, OPTIONS' });
    const { address, port } = this.o.app.address;
    const host = address === '0.0.0.0' || address === '::' ? '127.0.0.1' : address.includes(':') ? `[${address}]` : address;
    const token = this.o.app.config.server.token;
    const headers: Record<string, string> = {};
    for (const k of ['content-type', 'if-match']) if (req.headers[k] !== undefined) headers[k] = req.headers[k];
    if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
    const scheme = this.o.app.config.server.tlsCert ? 'https' : 'http';
    const res = await fetch(`${scheme}://${host}:${port}${req.path}`, { method: req.method, headers, ...(req.method === 'POST' || req.method === 'PATCH' ? { body: req.body } : {}), signal: AbortSignal.timeout(10_000) });
    const out: Record<string, string> = {};
    for (const k of ['content-type', 'location', 'etag', 'accept-patch', 'accept-post', 'retry-after', 'allow']) {
      const v = res.headers.get(k);
      if (v !== null) out[k] = v;
    }
    return { status: res.status, headers: out, body: await res.text() };
  }

  private async beat(): Promise<void> {
    const now = performance.now();
    const dt = Math.max(1e-3, (now - this.window.since) / 1000);
    const app = this.o.app;
    const first = app.engine;
    const record: NodeRecord = {
      name: this.o.name,
      capacity: this.o.capacity,
      cameras: [...this.held.keys()].flatMap((c) => {
        const cam = app.cameras.get(c);
        return cam ? [{ ...cam.view(), node: this.o.name }] : [];
      }),
      load: { fps: Math.round((this.window.frames / dt) * 10) / 10, inferenceMs: this.window.inferred > 0 ? Math.round((this.window.inferenceMs / this.window.inferred) * 10) / 10 : null },
      heartbeat: Date.now(),
      startedAt: this.startedAt,
      model: { file: basename(first.info.path), classes: [...first.info.classNames], input: [first.info.inputWidth, first.info.inputHeight] },
      inference: { device: first.device.device, requested: [...first.device.requested], unavailable: first.device.unavailable.map((f) => ({ ...f })) },
      offers: { whep: app.whep !== undefined },
      http: { port: app.address.port },
    };
    Object.assign(this.window, { frames: 0, inferenceMs: 0, inferred: 0, since: now });
    await this.nodeKv.put(this.o.name, JSON.stringify(record)).catch(() => undefined);
  }

  /** Gives every camera back (leases deleted), leaves the node list, stops forwarding. The app and broker stay open. */
  close(): Promise<void> {
    return (this.closing ??= (async () => {
      for (const t of this.timers) clearInterval(t);
      while (this.ticking) await new Promise((r) => setTimeout(r, 20));
      await Promise.all([...this.held.keys()].map((c) => this.stop(c, 'shutdown')));
      await this.nodeKv.delete(this.o.name).catch(() => undefined);
      for (const s of this.subs) s.unsubscribe();
      this.pool.stop();
      this.leases.stop();
      this.nodes.stop();
      await this.events.close();
      this.o.log.info({ node: this.o.name }, 'cluster node left');
    })());
  }
}
