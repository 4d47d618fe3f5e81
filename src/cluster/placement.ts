/**
 * Which cameras a node claims and which it gives up, decided from what it sees of the cluster
 * (pure: the node's tick feeds it, tests drive it). The rule, for an even spread:
 *
 * - share = ceil(cameras to run / live nodes);
 * - while another live node has room below its share, a node claims up to its share; when every
 *   other node is full, up to its own capacity (so cameras never wait while some node has room);
 * - a node over its share gives up one camera a tick while another live node is below its share
 *   (a node that joins takes cameras over from loaded ones), never going under its share, so
 *   the spread settles and does not swing.
 */

export interface PlacementNode {
  readonly name: string;
  readonly capacity: number;
  /** Cameras it holds (from its heartbeat). */
  readonly cameras: number;
}

export interface PlacementView {
  readonly self: string;
  readonly capacity: number;
  /** Cameras this node holds, oldest claim first. */
  readonly held: readonly string[];
  /** Every camera that should run somewhere (enabled, in the pool). */
  readonly wanted: number;
  /** Cameras this node could claim now: no live lease, and this node can run them. Best first. */
  readonly free: readonly string[];
  /** The other live nodes. */
  readonly others: readonly PlacementNode[];
}

export interface PlacementPlan {
  readonly claim: string[];
  readonly release: string[];
}

export function shareOf(wanted: number, liveNodes: number): number {
  return Math.ceil(wanted / Math.max(1, liveNodes));
}

export function planPlacement(v: PlacementView): PlacementPlan {
  const share = shareOf(v.wanted, v.others.length + 1);
  const belowShare = v.others.filter((n) => n.cameras < Math.min(n.capacity, share));
  const limit = belowShare.length > 0 ? Math.min(v.capacity, share) : v.capacity;
  const claim = v.free.slice(0, Math.max(0, limit - v.held.length));
  const release: string[] = [];
  if (v.held.length > v.capacity) release.push(...v.held.slice(v.capacity));
  else if (v.held.length > share && belowShare.length > 0) release.push(v.held.at(-1)!);
  return { claim: release.length > 0 ? [] : claim, release };
}

/**
 * The order a node tries free cameras in: those it ran before first (after a broker outage each
 * node takes its own back), then by a hash of node and camera, so nodes starting together try
 * different cameras first instead of racing for the same one.
 */
export function claimOrder(self: string, cameras: readonly string[], before: ReadonlySet<string>): string[] {
  const h = (s: string): number => {
    let x = 2166136261;
    for (let i = 0; i < s.length; i++) x = Math.imul(x ^ s.charCodeAt(i), 16777619) >>> 0;
    return x;
  };
  return [...cameras].sort((a, b) => Number(before.has(b)) - Number(before.has(a)) || h(`${self}/${a}`) - h(`${self}/${b}`) || (a < b ? -1 : 1));
}
