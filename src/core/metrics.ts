/**
 * The metrics the stages count into, as interfaces: the stages (cameras, publish) depend on
 * these, `src/metrics.ts` implements them with prom-client. Label values are strings or numbers.
 */
export type MetricLabels<L extends string> = Partial<Record<L, string | number>>;

export interface CounterMetric<L extends string = string> {
  inc(labels: MetricLabels<L>, value?: number): void;
  inc(value?: number): void;
  /** Forgets the series of these labels (a removed camera's). */
  remove(labels: MetricLabels<L>): void;
}

export interface GaugeMetric<L extends string = string> {
  set(labels: MetricLabels<L>, value: number): void;
  set(value: number): void;
}

export interface HistogramMetric<L extends string = string> {
  observe(labels: MetricLabels<L>, value: number): void;
  remove(labels: MetricLabels<L>): void;
}

/** The exposition of every metric (GET /metrics). */
export interface MetricsRegistry {
  /** Prometheus text format. */
  metrics(): Promise<string>;
  readonly contentType: string;
}

/** One app instance's metrics (so tests can run several). */
export interface Metrics {
  readonly registry: MetricsRegistry;
  readonly framesIn: CounterMetric<'camera'>;
  readonly framesDropped: CounterMetric<'camera'>;
  readonly framesProcessed: CounterMetric<'camera'>;
  /** Frames motion gating published without inference (the last result carried forward). */
  readonly framesGated: CounterMetric<'camera'>;
  readonly inferenceErrors: CounterMetric<'camera'>;
  readonly framesFailed: CounterMetric<'camera'>;
  readonly sourceRestarts: CounterMetric<'camera'>;
  /** Capture to publish, s. */
  readonly latency: HistogramMetric<'camera'>;
  /** session.run per batch, s. */
  readonly inferenceSeconds: HistogramMetric<'batch'>;
  /** 1, labelled with the device inference runs on, the devices requested (comma list) and those that could not be used (comma list, empty: no fallback). */
  readonly inferenceDevice: GaugeMetric<'device' | 'requested' | 'unavailable'>;
  readonly wsClients: GaugeMetric;
  /** Messages not sent to a client whose send buffer was full. */
  readonly wsSkipped: CounterMetric;
  /** Connections closed because they answered no protocol ping within a heartbeat interval. */
  readonly wsHeartbeatTimeouts: CounterMetric;
  readonly clientErrors: CounterMetric<'code'>;
  /** WHEP video: display frames whose result never came, frames not sent, capture to WebRTC send (s), open sessions. */
  readonly displayDropped: CounterMetric<'camera'>;
  readonly videoSkipped: CounterMetric<'camera'>;
  readonly videoLatency: HistogramMetric<'camera'>;
  readonly whepSessions: GaugeMetric;
  /** JPEG frames (subscribe `jpeg`): encoded, and waiting ones replaced by a newer frame before their encode began, by camera and overlay ("true"/"false"). */
  readonly jpegEncoded: CounterMetric<'camera' | 'overlay'>;
  readonly jpegReplaced: CounterMetric<'camera' | 'overlay'>;
  /** Road event messages sent, by camera, kind and state (start, update, end). */
  readonly events: CounterMetric<'camera' | 'kind' | 'state'>;
  /** Event starts that went without a snapshot (drawing or encoding failed, too many waiting). */
  readonly snapshotsFailed: CounterMetric<'camera'>;
  /** Webhook messages by outcome: delivered, failed (with reason), dropped (queue full or stopping); and retries. */
  readonly webhook: CounterMetric<'result' | 'reason'>;
  readonly webhookRetries: CounterMetric;
  /** Wall-clock capture time (ms epoch) of each camera's newest published frame, read by segstream_frame_age_seconds. */
  readonly newestPublished: Map<string, number>;
}
