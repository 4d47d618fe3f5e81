import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Metrics as CoreMetrics } from './core/index.js';

/**
 * The core's Metrics implemented with prom-client, one registry per app instance (so tests can
 * run several). Stages depend on core's interface; the app, tests and benches read these.
 */
export interface Metrics extends CoreMetrics {
  registry: Registry;
  framesIn: Counter<'camera'>;
  framesDropped: Counter<'camera'>;
  framesProcessed: Counter<'camera'>;
  framesGated: Counter<'camera'>;
  inferenceErrors: Counter<'camera'>;
  framesFailed: Counter<'camera'>;
  sourceRestarts: Counter<'camera'>;
  latency: Histogram<'camera'>;
  inferenceSeconds: Histogram<'batch'>;
  inferenceDevice: Gauge<'device' | 'requested' | 'unavailable'>;
  wsClients: Gauge;
  wsSkipped: Counter;
  wsHeartbeatTimeouts: Counter;
  clientErrors: Counter<'code'>;
  displayDropped: Counter<'camera'>;
  videoSkipped: Counter<'camera'>;
  videoLatency: Histogram<'camera'>;
  whepSessions: Gauge;
  jpegEncoded: Counter<'camera' | 'overlay'>;
  jpegReplaced: Counter<'camera' | 'overlay'>;
  events: Counter<'camera' | 'kind' | 'state'>;
  snapshotsFailed: Counter<'camera'>;
  webhook: Counter<'result' | 'reason'>;
  webhookRetries: Counter;
  /** Cluster: broker connection up (1) or not (0). */
  brokerConnected: Gauge;
  /** Cluster node: messages not published because the broker was away, by kind (frame, status, target, event). */
  brokerDropped: Counter<'kind'>;
  /** Cluster: frames held back because their node's lease was not (or no longer) valid: at a node before sending, at the gateway on receipt. */
  framesFenced: Counter<'where'>;
  /** Cluster node: camera leases held. */
  leasesHeld: Gauge;
  /** Wall-clock capture time (ms epoch) of each camera's newest published frame, read by segstream_frame_age_seconds. */
  newestPublished: Map<string, number>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'segstream_process_' });
  const r = { registers: [registry] };
  const newestPublished = new Map<string, number>();
  new Gauge({
    name: 'segstream_frame_age_seconds',
    help: "Age of the camera's newest published frame (capture to now): grows while a camera is down or the pipeline is stuck",
    labelNames: ['camera'],
    ...r,
    collect() {
      const now = Date.now();
      // Only the cameras that run now: a removed camera's series goes with it.
      this.reset();
      for (const [camera, at] of newestPublished) this.set({ camera }, Math.max(0, now - at) / 1000);
    },
  });
  return {
    newestPublished,
    registry,
    framesIn: new Counter({ name: 'segstream_frames_in_total', help: 'Frames delivered by ffmpeg', labelNames: ['camera'], ...r }),
    framesDropped: new Counter({ name: 'segstream_frames_dropped_total', help: 'Frames replaced by a newer one while inference was busy (latest wins)', labelNames: ['camera'], ...r }),
    framesProcessed: new Counter({ name: 'segstream_frames_processed_total', help: 'Frames published (segmented, or gated: see segstream_frames_gated_total)', labelNames: ['camera'], ...r }),
    framesGated: new Counter({ name: 'segstream_frames_gated_total', help: "Frames motion gating published without inference because the camera's picture had not changed (the last result's objects carried forward)", labelNames: ['camera'], ...r }),
    inferenceErrors: new Counter({ name: 'segstream_inference_errors_total', help: 'Frames whose inference failed', labelNames: ['camera'], ...r }),
    framesFailed: new Counter({ name: 'segstream_frames_failed_total', help: 'Frames skipped because mask decoding or tracking threw (logged with the error)', labelNames: ['camera'], ...r }),
    sourceRestarts: new Counter({ name: 'segstream_source_restarts_total', help: 'Times a live source was reconnected', labelNames: ['camera'], ...r }),
    latency: new Histogram({ name: 'segstream_latency_seconds', help: 'Capture to publish', labelNames: ['camera'], buckets: [0.01, 0.025, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2], ...r }),
    inferenceSeconds: new Histogram({ name: 'segstream_inference_seconds', help: 'session.run per batch', labelNames: ['batch'], buckets: [0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64], ...r }),
    inferenceDevice: new Gauge({
      name: 'segstream_inference_device_info',
      help: 'Always 1: the device inference runs on (device), the devices asked for in order (requested) and those that could not be used before it (unavailable, empty without a fallback; the reasons are in the log and hello)',
      labelNames: ['device', 'requested', 'unavailable'],
      ...r,
    }),
    wsClients: new Gauge({ name: 'segstream_ws_clients', help: 'Connected WebSocket clients', ...r }),
    wsSkipped: new Counter({ name: 'segstream_ws_messages_skipped_total', help: 'Messages (frames, events, replies) not sent to a client whose send buffer was full', ...r }),
    wsHeartbeatTimeouts: new Counter({ name: 'segstream_ws_heartbeat_timeouts_total', help: 'WebSocket connections closed because they answered no ping (RFC 6455) within a heartbeat interval', ...r }),
    clientErrors: new Counter({ name: 'segstream_client_errors_total', help: 'Client messages rejected, by error code', labelNames: ['code'], ...r }),
    displayDropped: new Counter({ name: 'segstream_display_frames_dropped_total', help: 'Display frames (WHEP video) dropped from the ring: their segmentation result never came (frame dropped by the scheduler) or came too late', labelNames: ['camera'], ...r }),
    videoSkipped: new Counter({ name: 'segstream_video_frames_skipped_total', help: 'Segmented frames not sent as WHEP video: a newer one came while the overlay was drawn, or drawing failed', labelNames: ['camera'], ...r }),
    videoLatency: new Histogram({ name: 'segstream_video_latency_seconds', help: 'Capture to WebRTC send (overlay drawn) of WHEP video frames', labelNames: ['camera'], buckets: [0.01, 0.025, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2], ...r }),
    whepSessions: new Gauge({ name: 'segstream_whep_sessions', help: 'Open WHEP sessions (viewers), all cameras', ...r }),
    jpegEncoded: new Counter({ name: 'segstream_jpeg_frames_encoded_total', help: 'JPEG frames encoded for WebSocket clients (subscribe jpeg), by camera and overlay drawn or not', labelNames: ['camera', 'overlay'], ...r }),
    jpegReplaced: new Counter({ name: 'segstream_jpeg_frames_replaced_total', help: 'JPEG frames not encoded: a newer frame replaced them while the previous one of the same camera and variant was encoded', labelNames: ['camera', 'overlay'], ...r }),
    events: new Counter({ name: 'segstream_events_total', help: 'Road event messages sent (WebSocket, webhook, history), by camera, kind and state', labelNames: ['camera', 'kind', 'state'], ...r }),
    snapshotsFailed: new Counter({ name: 'segstream_event_snapshots_failed_total', help: 'Event starts that went without a snapshot (drawing or encoding failed, or too many were being made)', labelNames: ['camera'], ...r }),
    webhook: new Counter({ name: 'segstream_webhook_messages_total', help: 'Webhook messages by result: delivered, failed (reason: timeout, network, server_error, throttled, rejected, redirect), dropped (queue full: the oldest go; or the service stopping)', labelNames: ['result', 'reason'], ...r }),
    webhookRetries: new Counter({ name: 'segstream_webhook_retries_total', help: 'Webhook requests retried after a failure', ...r }),
    brokerConnected: new Gauge({ name: 'segstream_broker_connected', help: 'Cluster: 1 while the broker connection is up, else 0 (it reconnects by itself)', ...r }),
    brokerDropped: new Counter({ name: 'segstream_broker_dropped_total', help: 'Cluster node: messages not published because the broker was away (frames, status, target messages; events wait in a bounded queue and count here when it overflows)', labelNames: ['kind'], ...r }),
    framesFenced: new Counter({ name: 'segstream_cluster_frames_fenced_total', help: "Cluster: frames held back because their node's camera lease was not valid (where: node, before sending; gateway, from a node that does not hold the lease)", labelNames: ['where'], ...r }),
    leasesHeld: new Gauge({ name: 'segstream_cluster_leases', help: 'Cluster node: camera leases held', ...r }),
  };
}
