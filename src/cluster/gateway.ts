import { performance } from 'node:perf_hooks';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { ERROR_CODES, nameSome, parseWith, redactUrl, SegstreamError, summariseString, summariseValue, type ErrorCode, type Logger } from '../core/index.js';
import { cameraPatchSchema, cameraSchema, type CameraEntry, type Config } from '../config/index.js';
import { cameraPath, notAllowed, parseZonesBody } from '../cameras/index.js';
import { createMetrics, type Metrics } from '../metrics.js';
import { dashboardRoutes, httpStatusOf, PublishServer, publishOptionsFrom, securityFrom } from '../publish/index.js';
import { eventMessageSchema, parsePromptMessage, type CameraView, type StatusMessage } from '../protocol/index.js';
import { EventStore, eventRoutes, type RoadEvent } from '../events/index.js';
import { sourceSpecOf } from '../ingest/index.js';
import { corsHeaders, readBody, WHEP_PREFIX } from '../webrtc/index.js';
import { KvConflict, type Broker, type BrokerMessage } from './broker.js';
import { KvMirror, parseJsonBytes } from './kvMirror.js';
import { parseLease, parseNodeRecord, parsePoolEntry, type ControlReply, type ControlRequest, type Lease, type NodeRecord, type RelayedHttp } from './records.js';
import { cameraFromToken, cameraToken, clusterNames, type ClusterNames } from './subjects.js';
import { GatewayFrame } from './gatewayFrame.js';

/** Most cameras in the pool. */
export const MAX_POOL_CAMERAS = 4096;
/** Event snapshots held until their start message arrives (it follows at once). */
const MAX_WAITING_SNAPSHOTS = 64;
/** Largest WHEP request body relayed, bytes. */
const MAX_WHEP_BODY_BYTES = 64 * 1024;

export interface Gateway {
  readonly address: AddressInfo;
  readonly metrics: Metrics;
  /** The cluster's event history, fed from the broker's event stream. */
  readonly events: EventStore;
  close(): Promise<void>;
}

/**
 * What users touch, for every camera of every node: the WebSocket stream, the dashboard,
 * `/api/cameras` (it writes the pool), `/api/nodes`, `/events`, WHEP (relayed to the camera's
 * node, which answers with its own SDP). Frames fan in from `<p>.frames.*`, each passed on only
 * when it comes from the node that holds the camera's lease (so a node cut off and late cannot
 * double a camera); prompts and camera changes go to that node by request/reply.
 */
export async function startGateway(config: Config, broker: Broker, log: Logger): Promise<Gateway> {
  const names = clusterNames(config.broker.prefix);
  const timeoutMs = config.broker.requestTimeoutMs;
  const metrics = createMetrics();
  const leaseKv = await broker.kv(names.leaseBucket, { maxAgeMs: config.broker.leaseTtlS * 1000 });
  const ttlMs = leaseKv.maxAgeMs || config.broker.leaseTtlS * 1000;
  const poolKv = await broker.kv(names.poolBucket);
  const nodeKv = await broker.kv(names.nodeBucket, { maxAgeMs: ttlMs * 2 });
  const evc = config.events;
  const stream = await broker.stream(names.eventStream, names.eventSubjects, { maxAgeMs: evc.maxAgeDays * 86_400_000, maxBytes: evc.maxBytes });
  const history = EventStore.open(evc.db ?? ':memory:', { maxAgeS: evc.maxAgeDays * 86_400, maxBytes: evc.maxBytes, log });

  const lastStatus = new Map<string, StatusMessage>();
  const targets = new Map<string, Set<number>>();
  /** The node each camera's lease last named (kept across a release, to see a move). */
  const lastHolder = new Map<string, string>();
  /** The owner as last announced to clients (undefined: unclaimed). */
  const announced = new Map<string, string | undefined>();

  const pool = new KvMirror<CameraEntry>(poolKv, broker, parsePoolEntry, log, (key, now) => {
    const camera = cameraFromToken(key);
    if (!now) {
      lastStatus.delete(camera);
      targets.delete(camera);
      lastHolder.delete(camera);
      announced.delete(camera);
      server.broadcast({ type: 'status', camera, state: 'removed', restarts: 0 } satisfies StatusMessage);
    }
  });
  const leases = new KvMirror<Lease>(leaseKv, broker, parseLease, log, (key, now) => {
    if (!now) return;
    const camera = cameraFromToken(key);
    const before = lastHolder.get(camera);
    lastHolder.set(camera, now.value.node);
    // Another node took the camera: its targets stayed with the one before.
    if (before !== undefined && before !== now.value.node) endTargets(camera, 'failover');
  });
  const nodes = new KvMirror<NodeRecord>(nodeKv, broker, parseNodeRecord, log);

  function endTargets(camera: string, reason: 'failover'): void {
    const set = targets.get(camera);
    if (!set) return;
    targets.delete(camera);
    for (const target of set) server.broadcast({ type: 'target.ended', camera, target, reason });
    if (set.size > 0) log.info({ camera, targets: [...set], reason }, 'targets ended: the camera moved to another node');
  }

  /** The node holding a camera's lease now (renewed within a TTL), else undefined. */
  function ownerOf(camera: string): string | undefined {
    const l = leases.get(cameraToken(camera));
    return l && performance.now() - l.seenAt < ttlMs ? l.value.node : undefined;
  }

  function liveNodes(): NodeRecord[] {
    const now = performance.now();
    return [...nodes.entries()].filter(([, n]) => now - n.seenAt < ttlMs).map(([, n]) => n.value);
  }

  function viewOf(entry: CameraEntry): CameraView {
    const node = ownerOf(entry.id);
    const running = node === undefined ? undefined : nodes.get(node)?.value.cameras.find((c) => c.id === entry.id);
    if (running && node !== undefined) return { ...running, node };
    let kind: CameraView['kind'] = 'file';
    try {
      kind = sourceSpecOf(entry.id, entry.url).kind;
    } catch {
      // an unusual URL: shown as a file; nodes refuse it with the reason (its status)
    }
    const st = lastStatus.get(entry.id);
    return {
      id: entry.id,
      kind,
      url: redactUrl(entry.url),
      enabled: entry.enabled,
      // Claimed a moment ago (its node's next heartbeat shows it): starting.
      state: !entry.enabled ? 'disabled' : node !== undefined ? 'connecting' : 'unclaimed',
      ...(st?.error && node === undefined ? { error: st.error } : {}),
      restarts: 0,
      framesRead: 0,
      framesProcessed: 0,
      framesDropped: 0,
      framesGated: 0,
      frameAgeS: null,
      origin: 'api',
      ...(node !== undefined ? { node } : {}),
    };
  }

  function poolEntries(): CameraEntry[] {
    return [...pool.entries()].map(([, e]) => e.value).sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  function requireEntry(camera: string): { entry: CameraEntry; revision: number } {
    const e = pool.get(cameraToken(camera));
    if (!e) throw new SegstreamError('E_UNKNOWN_CAMERA', `unknown camera: ${nameSome([camera])}`, { expected: poolEntries().slice(0, 16).map((c) => c.id), actual: summariseValue(camera) });
    return { entry: e.value, revision: e.revision };
  }

  /** A request to the node that runs `camera`: its reply's body, or its error as a SegstreamError. */
  async function control(camera: string, req: ControlRequest): Promise<unknown> {
    const node = ownerOf(camera);
    if (node === undefined) throw new SegstreamError('E_NO_NODE', `camera ${camera} runs on no node now (unclaimed: no node has room or can run it)`, { expected: 'a camera a node has claimed' });
    let raw: Uint8Array;
    try {
      raw = await broker.request(names.control(camera), JSON.stringify(req), timeoutMs);
    } catch (err) {
      if (err instanceof SegstreamError && err.code === 'E_NO_NODE') throw new SegstreamError('E_NO_NODE', `camera ${camera}: node ${node} did not answer: ${err.message}`, { expected: `an answer within ${timeoutMs} ms` });
      throw err;
    }
    const reply = parseJsonBytes(raw) as ControlReply | undefined;
    if (!reply || typeof reply !== 'object') throw new SegstreamError('E_INTERNAL', `camera ${camera}: node ${node} answered something that is not a reply`);
    if (reply.ok) return reply.body;
    const code: ErrorCode = (ERROR_CODES as readonly string[]).includes(reply.error?.code) ? (reply.error.code as ErrorCode) : 'E_INTERNAL';
    throw new SegstreamError(code, String(reply.error?.message ?? 'the node refused'), { expected: reply.error?.expected, actual: reply.error?.actual });
  }

  // One API change at a time (a PATCH reads the entry, asks the node, writes the pool).
  let apiQueue: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(step: () => Promise<T>): Promise<T> => {
    const run = apiQueue.then(step);
    apiQueue = run.catch(() => undefined);
    return run;
  };

  /** Writes a changed entry: to the node running it first (it checks it against its media roots and applies it), then to the pool. */
  async function change(camera: string, next: CameraEntry, revision: number): Promise<{ camera: CameraView; restarted: boolean }> {
    let restarted = false;
    if (ownerOf(camera) !== undefined && next.enabled) {
      const body = (await control(camera, { op: 'update', entry: next })) as { restarted?: boolean };
      restarted = body.restarted === true;
    }
    try {
      const json = JSON.stringify(next);
      pool.note(cameraToken(camera), new TextEncoder().encode(json), await poolKv.update(cameraToken(camera), json, revision));
    } catch (err) {
      if (err instanceof KvConflict) throw new SegstreamError('E_CAMERA_EXISTS', `camera ${camera} was changed meanwhile (another gateway?); read it again and retry`, { expected: `revision ${revision}` });
      throw err;
    }
    return { camera: viewOf(next), restarted };
  }

  const api = async ({ method, path, body }: { method: string; path: string; body: unknown }) => {
    if (!broker.connected && method !== 'GET' && method !== 'HEAD') throw new SegstreamError('E_BROKER', 'the broker is not connected: the camera pool cannot be changed now');
    if (path === '/api/nodes') {
      if (method !== 'GET' && method !== 'HEAD') return notAllowed('GET, HEAD');
      const now = performance.now();
      return {
        status: 200,
        body: {
          nodes: [...nodes.entries()]
            .map(([, n]) => ({
              name: n.value.name,
              cameras: n.value.cameras.map((c) => c.id),
              capacity: n.value.capacity,
              load: n.value.load,
              lastHeartbeat: n.value.heartbeat,
              heartbeatAgeS: Math.round((now - n.seenAt) / 100) / 10,
              live: now - n.seenAt < ttlMs,
              startedAt: n.value.startedAt,
              device: n.value.inference.device,
            }))
            .sort((a, b) => (a.name < b.name ? -1 : 1)),
        },
      };
    }
    if (path === '/api/cameras') {
      if (method === 'GET' || method === 'HEAD') return { status: 200, body: { cameras: poolEntries().map(viewOf) } };
      if (method !== 'POST') return notAllowed('GET, HEAD, POST');
      const entry = parseWith(cameraSchema, body, 'E_CONFIG', 'invalid camera:');
      if (entry.tlsCaFile !== undefined) throw new SegstreamError('E_CONFIG', 'invalid camera: tlsCaFile: a cluster camera uses the CA files its nodes are configured with', { expected: 'no tlsCaFile' });
      return exclusive(async () => {
        if (pool.size >= MAX_POOL_CAMERAS) throw new SegstreamError('E_CAMERA_LIMIT', `the pool holds ${MAX_POOL_CAMERAS} cameras already`, { expected: `<= ${MAX_POOL_CAMERAS}` });
        try {
          const json = JSON.stringify(entry);
          pool.note(cameraToken(entry.id), new TextEncoder().encode(json), await poolKv.create(cameraToken(entry.id), json));
        } catch (err) {
          if (err instanceof KvConflict) throw new SegstreamError('E_CAMERA_EXISTS', `camera '${entry.id}' exists already; PATCH or DELETE /api/cameras/${entry.id}`, { expected: 'a new camera id', actual: entry.id });
          throw err;
        }
        return { status: 201, body: { camera: viewOf(entry) }, headers: { location: `/api/cameras/${entry.id}` } };
      });
    }
    const target = cameraPath(path);
    if (!target) return undefined;
    const { id } = target;
    if (target.zones) {
      if (method === 'GET' || method === 'HEAD') return { status: 200, body: { zones: requireEntry(id).entry.zones ?? [] } };
      if (method !== 'PUT') return notAllowed('GET, HEAD, PUT');
      const zones = parseZonesBody(body);
      return exclusive(async () => {
        const { entry, revision } = requireEntry(id);
        const next = parseWith(cameraSchema, { ...entry, zones }, 'E_CONFIG', 'invalid camera:');
        await change(id, next, revision);
        return { status: 200, body: { zones: next.zones ?? [] } };
      });
    }
    if (method === 'GET' || method === 'HEAD') return { status: 200, body: { camera: viewOf(requireEntry(id).entry) } };
    if (method === 'PATCH') {
      const patch = parseWith(cameraPatchSchema, body, 'E_CONFIG', 'invalid camera change:');
      if (patch.tlsCaFile !== undefined) throw new SegstreamError('E_CONFIG', 'invalid camera change: tlsCaFile: a cluster camera uses the CA files its nodes are configured with', { expected: 'no tlsCaFile' });
      return exclusive(async () => {
        const { entry, revision } = requireEntry(id);
        const motionGate = patch.motionGate ? { motionGate: { ...entry.motionGate, ...patch.motionGate } } : {};
        const next = parseWith(cameraSchema, { ...entry, ...patch, ...motionGate }, 'E_CONFIG', 'invalid camera:');
        const out = await change(id, next, revision);
        return { status: 200, body: out };
      });
    }
    if (method === 'DELETE') {
      return exclusive(async () => {
        const { revision } = requireEntry(id);
        await poolKv.delete(cameraToken(id), revision).catch((err: unknown) => {
          if (err instanceof KvConflict) throw new SegstreamError('E_CAMERA_EXISTS', `camera ${id} was changed meanwhile; read it again and retry`);
          throw err;
        });
        pool.note(cameraToken(id), null, revision + 1);
        return { status: 200, body: { camera: { id, state: 'removed' } } };
      });
    }
    return notAllowed('GET, HEAD, PATCH, DELETE');
  };

  const routePrompt = async (raw: unknown): Promise<Record<string, unknown>> => {
    const msg = parsePromptMessage(raw);
    requireEntry(msg.camera);
    const reply = (await control(msg.camera, { op: 'prompt', message: raw })) as Record<string, unknown>;
    const set = targets.get(msg.camera) ?? new Set<number>();
    targets.set(msg.camera, set);
    if (reply['type'] === 'prompt.ok' && typeof reply['target'] === 'number') set.add(reply['target']);
    if (reply['type'] === 'prompt.cleared' && Array.isArray(reply['targets'])) for (const t of reply['targets']) set.delete(t as number);
    return reply;
  };

  const tls = config.server.tlsCert && config.server.tlsKey ? { cert: readFileSync(config.server.tlsCert), key: readFileSync(config.server.tlsKey) } : undefined;
  const anyNode = (): NodeRecord | undefined => liveNodes()[0] ?? [...nodes.entries()][0]?.[1].value;
  const server: PublishServer = new PublishServer(
    publishOptionsFrom(config.server, { jpeg: false, whep: config.server.whep }),
    {
      hello: () => {
        const n = anyNode();
        return {
          model: n?.model ?? { file: '', classes: [], input: [0, 0] },
          inference: n?.inference ?? { device: 'cpu', requested: ['cpu'], unavailable: [] },
          cameras: poolEntries().map(viewOf),
        };
      },
      health: () => ({ ok: true, role: 'gateway', broker: broker.connected, nodes: liveNodes().length, cameras: pool.size }),
      // Ready while the broker is reachable: without it nothing reaches the clients.
      ready: () => {
        const unclaimed = poolEntries().filter((e) => e.enabled && ownerOf(e.id) === undefined).map((e) => e.id);
        return { ok: broker.connected, broker: broker.connected, nodes: liveNodes().length, cameras: pool.size, ...(unclaimed.length ? { unclaimed } : {}) };
      },
      cameraIds: () => poolEntries().map((e) => e.id),
      handlers: { prompt: routePrompt, 'prompt.clear': routePrompt },
      api,
    },
    metrics,
    log,
    securityFrom(config.server, tls),
  );
  for (const route of dashboardRoutes({ tokenRequired: config.server.token !== undefined })) server.route(route);
  for (const route of eventRoutes(history)) server.route(route);
  if (config.server.whep) server.route({ path: WHEP_PREFIX, prefix: true, handle: (req, res, path) => relayWhep(req, res, path) });

  /** A WHEP request for a camera, relayed to its node; the node's answer (SDP with its own candidates) comes back as it is. */
  async function relayWhep(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const cors = corsHeaders(req);
    const fail = (err: SegstreamError, status = httpStatusOf(err.code)): void => {
      if (res.headersSent) return void res.end();
      res.writeHead(status, { ...cors, 'content-type': 'application/json' }).end(JSON.stringify({ error: err.toJSON() }));
    };
    const parts = path.slice(WHEP_PREFIX.length).split('/');
    let camera: string;
    try {
      camera = decodeURIComponent(parts[0] ?? '');
    } catch {
      return fail(new SegstreamError('E_MSG_INVALID', 'not a WHEP resource', { expected: '/whep/<camera>[/<session>]' }), 404);
    }
    const method = req.method ?? 'GET';
    if (method === 'OPTIONS') return void res.writeHead(204, { ...cors, ...(parts.length === 1 ? { 'accept-post': 'application/sdp' } : { 'accept-patch': 'application/trickle-ice-sdpfrag' }) }).end();
    try {
      if (camera === '' || parts.length > 2 || !pool.get(cameraToken(camera))) throw new SegstreamError('E_UNKNOWN_CAMERA', `unknown camera: ${summariseString(camera, 64)}`);
      const body = method === 'POST' || method === 'PATCH' ? await readBody(req, MAX_WHEP_BODY_BYTES) : '';
      const headers: Record<string, string> = {};
      const ct = req.headers['content-type'];
      if (typeof ct === 'string') headers['content-type'] = ct;
      const ifMatch = req.headers['if-match'];
      if (typeof ifMatch === 'string') headers['if-match'] = ifMatch;
      const relayed = (await control(camera, { op: 'http', method, path, headers, body })) as RelayedHttp;
      res.writeHead(relayed.status, { ...cors, ...relayed.headers }).end(relayed.body);
    } catch (err) {
      if (err instanceof SegstreamError) return fail(err);
      throw err;
    }
  }

  // Frames, status and target messages fan in; each frame only from the lease holder.
  const unsubs: (() => void)[] = [];
  unsubs.push(
    broker.subscribe(names.allFrames, (msg) => {
      const camera = names.cameraOf(msg.subject);
      const node = msg.headers.get('node');
      if (camera === undefined || node === undefined) return;
      if (ownerOf(camera) !== node) return void metrics.framesFenced.inc({ where: 'gateway' });
      const t = msg.headers.get('targets');
      if (t) {
        let set = targets.get(camera);
        if (!set) targets.set(camera, (set = new Set()));
        for (const s of t.split(',')) {
          const n = Number(s);
          if (Number.isInteger(n) && n > 0) set.add(n);
        }
      }
      server.publishFrame(camera, new GatewayFrame(Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength).toString('utf8')));
    }),
    broker.subscribe(names.allStatus, (msg) => {
      const camera = names.cameraOf(msg.subject);
      const st = parseJsonBytes(msg.data) as StatusMessage | undefined;
      if (camera === undefined || !st || st.type !== 'status' || st.camera !== camera || !pool.get(cameraToken(camera))) return;
      // A node refusing a camera it does not hold says why; other status comes from the holder only.
      if (ownerOf(camera) !== st.node && !(st.state === 'failed' && ownerOf(camera) === undefined)) return;
      lastStatus.set(camera, st);
      server.broadcast(st);
    }),
    broker.subscribe(names.allTargets, (msg) => {
      const camera = names.cameraOf(msg.subject);
      const m = parseJsonBytes(msg.data) as { type?: string; camera?: string; target?: number; node?: string } | undefined;
      if (camera === undefined || !m || m.camera !== camera || ownerOf(camera) !== m.node) return;
      if (m.type === 'target.ended' && typeof m.target === 'number') targets.get(camera)?.delete(m.target);
      if (m.type !== 'target.ended' && m.type !== 'target.reattached') return;
      const { node: _node, ...out } = m;
      server.broadcast(out);
    }),
  );

  // Clients hear of a camera left without a node (its node died, or gave it up) once it is so.
  const sweep = setInterval(() => {
    metrics.brokerConnected.set(broker.connected ? 1 : 0);
    for (const e of poolEntries()) {
      const owner = ownerOf(e.id);
      if (announced.has(e.id) && announced.get(e.id) === owner) continue;
      const had = announced.has(e.id);
      announced.set(e.id, owner);
      if (owner === undefined && had && e.enabled) server.broadcast({ type: 'status', camera: e.id, state: 'unclaimed', restarts: 0 } satisfies StatusMessage);
    }
  }, 1000);
  sweep.unref();

  // The event history: the stream from its first message (a restart loses none), live ones to the clients too.
  const startedAt = Date.now();
  const waitingShots = new Map<string, Uint8Array>();
  const stopReplay = await stream.replay((msg: BrokerMessage) => {
    const [, kind] = msg.subject.split('.');
    if (kind === 'snapshots') {
      const id = msg.headers.get('event');
      if (id === undefined) return;
      waitingShots.set(id, msg.data);
      while (waitingShots.size > MAX_WAITING_SNAPSHOTS) waitingShots.delete(waitingShots.keys().next().value!);
      return;
    }
    const parsed = eventMessageSchema.safeParse(parseJsonBytes(msg.data));
    if (!parsed.success) return void log.warn({ subject: msg.subject }, 'an event message in the stream does not parse; skipped');
    const { type: _t, state, ...event } = parsed.data;
    try {
      history.upsert(event as RoadEvent);
      const shot = waitingShots.get(event.id);
      if (shot) {
        waitingShots.delete(event.id);
        history.putSnapshot(event.id, shot);
      }
    } catch (err) {
      log.error({ err, event: event.id }, 'event could not be written to the history');
    }
    if ((msg.time ?? 0) >= startedAt) {
      metrics.events.inc({ camera: event.camera, kind: event.kind, state });
      server.publishToCamera(event.camera, parsed.data);
    }
  });
  const pruneTimer = setInterval(() => {
    try {
      history.prune();
    } catch (err) {
      log.error({ err }, 'event history could not be pruned');
    }
  }, 10 * 60_000);
  pruneTimer.unref();

  await Promise.all([pool.start(), leases.start(), nodes.start()]);
  for (const e of poolEntries()) announced.set(e.id, ownerOf(e.id));
  let address: AddressInfo;
  try {
    address = await server.listen();
  } catch (err) {
    stopReplay();
    for (const u of unsubs) u();
    history.close();
    throw err;
  }
  log.info({ port: address.port, host: address.address, cameras: pool.size, nodes: liveNodes().length }, 'gateway listening: dashboard GET /, /api/cameras, /api/nodes, /events, WebSocket /ws, WHEP POST /whep/<camera> (relayed)');

  let closing: Promise<void> | undefined;
  return {
    address,
    metrics,
    events: history,
    close: () =>
      (closing ??= (async () => {
        clearInterval(sweep);
        clearInterval(pruneTimer);
        stopReplay();
        for (const u of unsubs) u();
        pool.stop();
        leases.stop();
        nodes.stop();
        await server.close();
        history.close();
      })()),
  };
}
