/**
 * Names on the broker, all from one prefix (`broker.prefix`, default `segstream`), so one broker
 * can carry several clusters:
 *
 * | name | kind | carries |
 * |---|---|---|
 * | `<p>.frames.<camera>` | core subject | frame messages (COCO RLE), latest wins, not kept |
 * | `<p>.status.<camera>` | core subject | status messages |
 * | `<p>.targets.<camera>` | core subject | target.ended / target.reattached messages |
 * | `<p>.events.<camera>` | stream `<p>-events` | event messages, kept and replayable |
 * | `<p>.snapshots.<camera>` | stream `<p>-events` | each event start's JPEG (header `event`) |
 * | `<p>.control.<camera>` | request/reply | prompts, camera changes, WHEP, to the camera's node |
 * | `<p>-cameras` | KV bucket | the camera pool: id -> camera entry (JSON) |
 * | `<p>-leases` | KV bucket, max age = lease TTL | id -> the node holding it |
 * | `<p>-nodes` | KV bucket, max age = 2 TTL | node name -> its heartbeat |
 *
 * Camera ids may hold `.`, a subject separator: it travels as `=` (not in the id alphabet).
 */
export interface ClusterNames {
  readonly prefix: string;
  frames(camera: string): string;
  status(camera: string): string;
  targets(camera: string): string;
  events(camera: string): string;
  snapshots(camera: string): string;
  control(camera: string): string;
  /** Wildcard subjects the gateway listens on. */
  readonly allFrames: string;
  readonly allStatus: string;
  readonly allTargets: string;
  readonly eventStream: string;
  readonly eventSubjects: readonly string[];
  readonly poolBucket: string;
  readonly leaseBucket: string;
  readonly nodeBucket: string;
  /** The camera a subject of this prefix names (`<p>.<kind>.<camera>`), else undefined. */
  cameraOf(subject: string): string | undefined;
}

/** A camera id as one subject token / KV key (reversible: `.` <-> `=`). */
export function cameraToken(camera: string): string {
  return camera.replace(/\./g, '=');
}

export function cameraFromToken(token: string): string {
  return token.replace(/=/g, '.');
}

export function clusterNames(prefix: string): ClusterNames {
  const s = (kind: string) => (camera: string) => `${prefix}.${kind}.${cameraToken(camera)}`;
  return {
    prefix,
    frames: s('frames'),
    status: s('status'),
    targets: s('targets'),
    events: s('events'),
    snapshots: s('snapshots'),
    control: s('control'),
    allFrames: `${prefix}.frames.*`,
    allStatus: `${prefix}.status.*`,
    allTargets: `${prefix}.targets.*`,
    eventStream: `${prefix}-events`,
    eventSubjects: [`${prefix}.events.*`, `${prefix}.snapshots.*`],
    poolBucket: `${prefix}-cameras`,
    leaseBucket: `${prefix}-leases`,
    nodeBucket: `${prefix}-nodes`,
    cameraOf(subject) {
      const parts = subject.split('.');
      if (parts.length !== 3 || parts[0] !== prefix || parts[2] === '') return undefined;
      return cameraFromToken(parts[2]!);
    },
  };
}
