import { describe, expect, it } from 'vitest';
import { claimOrder, planPlacement, shareOf, type PlacementNode, type PlacementView } from '../../../src/cluster/placement.js';
import { rng } from '../../helpers/random.js';

const cams = (n: number, from = 0): string[] => Array.from({ length: n }, (_, i) => `cam${from + i}`);

function view(v: Partial<PlacementView> & Pick<PlacementView, 'wanted'>): PlacementView {
  return { self: 'a', capacity: 4, held: [], free: [], others: [], ...v };
}

describe('shareOf', () => {
  it('is the wanted cameras over the live nodes, rounded up', () => {
    expect(shareOf(4, 2)).toBe(2);
    expect(shareOf(5, 2)).toBe(3);
    expect(shareOf(4, 3)).toBe(2);
    expect(shareOf(1, 3)).toBe(1);
    expect(shareOf(0, 3)).toBe(0);
  });

  it('counts a cluster of no live nodes as one (no division by zero)', () => {
    expect(shareOf(7, 0)).toBe(7);
  });
});

describe('planPlacement', () => {
  it('an empty node claims only its share while the other node has room below its share', () => {
    const free = cams(4);
    const plan = planPlacement(view({ wanted: 4, free, others: [{ name: 'b', capacity: 4, cameras: 0 }] }));
    expect(plan.release).toEqual([]);
    // Best first: the first two of `free`.
    expect(plan.claim).toEqual(['cam0', 'cam1']);
  });

  it('claims the rest up to its share when it already holds some', () => {
    const plan = planPlacement(view({ wanted: 6, held: ['cam0'], free: cams(5, 1), others: [{ name: 'b', capacity: 4, cameras: 1 }] }));
    expect(plan.claim).toEqual(['cam1', 'cam2']);
    expect(plan.release).toEqual([]);
  });

  it('claims up to its own capacity, beyond its share, when every other node is full', () => {
    // Share 3 each, but b can run only 1 (and does): a takes the 5 left, up to its capacity 5.
    const plan = planPlacement(view({ capacity: 5, wanted: 6, free: cams(5, 1), others: [{ name: 'b', capacity: 1, cameras: 1 }] }));
    expect(plan.claim).toEqual(cams(5, 1));
    expect(plan.release).toEqual([]);
  });

  it('never claims beyond its capacity even when cameras wait', () => {
    const plan = planPlacement(view({ capacity: 3, wanted: 10, held: ['x'], free: cams(9), others: [{ name: 'b', capacity: 1, cameras: 1 }] }));
    expect(plan.claim).toEqual(['cam0', 'cam1']);
  });

  it('claims up to capacity when the other nodes are at their share (not only at capacity)', () => {
    // share = ceil(5/2) = 3; b holds 3 of its 8: not below its share, so a may take both left.
    const plan = planPlacement(view({ capacity: 4, wanted: 5, held: [], free: cams(2), others: [{ name: 'b', capacity: 8, cameras: 3 }] }));
    expect(plan.claim).toEqual(['cam0', 'cam1']);
  });

  it('alone, claims every free camera up to its capacity', () => {
    const plan = planPlacement(view({ capacity: 3, wanted: 5, free: cams(5) }));
    expect(plan.claim).toEqual(['cam0', 'cam1', 'cam2']);
  });

  it('over its share, releases exactly one camera, the newest claim, while another live node is below its share', () => {
    const held = ['old', 'mid', 'new', 'newest'];
    const plan = planPlacement(view({ wanted: 4, held, others: [{ name: 'b', capacity: 4, cameras: 0 }] }));
    expect(plan.release).toEqual(['newest']);
    expect(plan.claim).toEqual([]);
  });

  it('claims nothing in a round it releases in, even with cameras free', () => {
    const plan = planPlacement(view({ capacity: 8, wanted: 6, held: cams(4), free: ['f1', 'f2'], others: [{ name: 'b', capacity: 4, cameras: 0 }] }));
    expect(plan.release).toEqual(['cam3']);
    expect(plan.claim).toEqual([]);
  });

  it('keeps its cameras when no other node is below its share', () => {
    // 4 held, share 2, but b is full at its capacity of 1: nowhere to move them.
    const plan = planPlacement(view({ wanted: 5, held: cams(4), others: [{ name: 'b', capacity: 1, cameras: 1 }] }));
    expect(plan.release).toEqual([]);
  });

  it('never releases below its share', () => {
    // share = ceil(5/2) = 3; held exactly 3 with b at 0: nothing given up.
    expect(planPlacement(view({ wanted: 5, held: cams(3), others: [{ name: 'b', capacity: 4, cameras: 0 }] })).release).toEqual([]);
    // Walk it down one release a round: it stops at the share.
    let held = cams(4);
    const releases: string[] = [];
    for (let round = 0; round < 10; round++) {
      const plan = planPlacement(view({ capacity: 4, wanted: 4, held, others: [{ name: 'b', capacity: 4, cameras: 0 }] }));
      releases.push(...plan.release);
      held = held.filter((c) => !plan.release.includes(c));
    }
    expect(releases).toEqual(['cam3', 'cam2']);
    expect(held).toEqual(['cam0', 'cam1']);
  });

  it('releases what it holds beyond its capacity, the newest first, all in one round', () => {
    const plan = planPlacement(view({ capacity: 2, wanted: 5, held: cams(5), free: ['f'] }));
    expect(plan.release).toEqual(['cam2', 'cam3', 'cam4']);
    expect(plan.claim).toEqual([]);
  });

  it('a node below its share is not counted as having room when its capacity is what limits it', () => {
    // b holds 1 of capacity 1 (below the share of 2, but full): a takes all 3 left (capacity 4).
    const plan = planPlacement(view({ wanted: 4, held: [], free: cams(3), others: [{ name: 'b', capacity: 1, cameras: 1 }] }));
    expect(plan.claim).toEqual(cams(3));
  });
});

/**
 * A cluster run tick by tick: each node sees a shared lease table (a claim is a compare-and-set:
 * the first to create the lease has it) and the others' camera counts as of their last heartbeat
 * (each node beats right after its own round, as ClusterNode.tick does).
 */
class Sim {
  readonly leases = new Map<string, string>();
  readonly nodes = new Map<string, { capacity: number; held: string[]; beat: number }>();
  readonly doubled: string[] = [];
  private readonly ranBefore = new Map<string, Set<string>>();

  constructor(readonly cameras: string[]) {}

  join(name: string, capacity: number): void {
    this.nodes.set(name, { capacity, held: [], beat: 0 });
    this.ranBefore.set(name, this.ranBefore.get(name) ?? new Set());
  }

  /** A node dies: its leases age out (the sim ages them at once), it drops from the live list. */
  leave(name: string): void {
    const n = this.nodes.get(name)!;
    for (const c of n.held) this.leases.delete(c);
    this.nodes.delete(name);
  }

  tick(name: string): void {
    const n = this.nodes.get(name)!;
    const others: PlacementNode[] = [...this.nodes].filter(([k]) => k !== name).map(([k, o]) => ({ name: k, capacity: o.capacity, cameras: o.beat }));
    const free = this.cameras.filter((c) => !this.leases.has(c));
    const plan = planPlacement({ self: name, capacity: n.capacity, held: [...n.held], wanted: this.cameras.length, free: claimOrder(name, free, this.ranBefore.get(name)!), others });
    for (const c of plan.release) {
      expect(this.leases.get(c)).toBe(name);
      this.leases.delete(c);
      n.held = n.held.filter((h) => h !== c);
    }
    for (const c of plan.claim) {
      if (this.leases.has(c)) continue; // lost the create
      this.leases.set(c, name);
      n.held.push(c);
      this.ranBefore.get(name)!.add(c);
    }
    n.beat = n.held.length;
    this.check();
  }

  round(order?: string[]): void {
    for (const name of order ?? [...this.nodes.keys()]) if (this.nodes.has(name)) this.tick(name);
  }

  /** Rounds until nothing changes for 3 rounds; the number of rounds it took. */
  settle(maxRounds = 100, shuffle?: () => number): number {
    let stable = 0;
    for (let r = 0; r < maxRounds; r++) {
      const before = this.snapshot();
      const order = [...this.nodes.keys()];
      if (shuffle) order.sort(() => shuffle() - 0.5);
      this.round(order);
      stable = this.snapshot() === before ? stable + 1 : 0;
      if (stable >= 3) return r;
    }
    throw new Error(`did not settle in ${maxRounds} rounds: ${this.snapshot()}`);
  }

  counts(): Record<string, number> {
    return Object.fromEntries([...this.nodes].map(([k, n]) => [k, n.held.length]));
  }

  private snapshot(): string {
    return JSON.stringify([...this.nodes].map(([k, n]) => [k, [...n.held].sort()]));
  }

  /** No camera held by two nodes; held lists match the lease table. */
  private check(): void {
    const holders = new Map<string, string>();
    for (const [k, n] of this.nodes) {
      expect(n.held.length, `${k} over capacity`).toBeLessThanOrEqual(n.capacity);
      for (const c of n.held) {
        if (holders.has(c)) this.doubled.push(c);
        holders.set(c, k);
        expect(this.leases.get(c)).toBe(k);
      }
    }
    expect(this.doubled).toEqual([]);
    expect(holders.size).toBe(this.leases.size);
  }
}

/** Settled: every camera runs when there is room, and no node is over its share while another is below its own. */
function expectEven(sim: Sim): void {
  const live = [...sim.nodes.values()];
  const share = shareOf(sim.cameras.length, live.length);
  const room = live.reduce((s, n) => s + n.capacity, 0);
  expect(sim.leases.size).toBe(Math.min(sim.cameras.length, room));
  const over = live.some((n) => n.held.length > share);
  const below = live.some((n) => n.held.length < Math.min(n.capacity, share));
  expect(over && below, JSON.stringify(sim.counts())).toBe(false);
}

describe('placement, simulated tick by tick', () => {
  it('two nodes starting together split 4 cameras 2 and 2 with no camera held twice', () => {
    const sim = new Sim(cams(4));
    sim.join('a', 4);
    sim.join('b', 4);
    sim.settle();
    expect(sim.counts()).toEqual({ a: 2, b: 2 });
    expectEven(sim);
  });

  it('three nodes split 9 cameras 3, 3, 3', () => {
    const sim = new Sim(cams(9));
    for (const n of ['a', 'b', 'c']) sim.join(n, 8);
    sim.settle();
    expect(sim.counts()).toEqual({ a: 3, b: 3, c: 3 });
  });

  it('a node joining late takes cameras over from the loaded one, one a round, until even', () => {
    const sim = new Sim(cams(6));
    sim.join('a', 8);
    sim.settle();
    expect(sim.counts()).toEqual({ a: 6 });
    sim.join('b', 8);
    sim.tick('b'); // b first sees a full cluster: nothing free
    expect(sim.counts()).toEqual({ a: 6, b: 0 });
    sim.tick('a'); // a sees b below its share: gives one up
    expect(sim.counts()).toEqual({ a: 5, b: 0 });
    const rounds = sim.settle();
    expect(sim.counts()).toEqual({ a: 3, b: 3 });
    expect(rounds).toBeLessThan(10);
    // The long-held cameras stay where they were: a gave up its newest claims.
    expect(sim.nodes.get('a')!.held).toEqual(claimOrder('a', cams(6), new Set()).slice(0, 3));
  });

  it('a third node joining late ends with 2, 2, 2', () => {
    const sim = new Sim(cams(6));
    sim.join('a', 6);
    sim.join('b', 6);
    sim.settle();
    expect(sim.counts()).toEqual({ a: 3, b: 3 });
    sim.join('c', 6);
    sim.settle();
    expect(sim.counts()).toEqual({ a: 2, b: 2, c: 2 });
  });

  it('a node leaving: its cameras are taken by the others, within their capacity', () => {
    const sim = new Sim(cams(6));
    for (const n of ['a', 'b', 'c']) sim.join(n, 4);
    sim.settle();
    expect(sim.counts()).toEqual({ a: 2, b: 2, c: 2 });
    sim.leave('b');
    sim.settle();
    expect(sim.counts()).toEqual({ a: 3, c: 3 });
    expectEven(sim);
    sim.leave('a');
    sim.settle();
    // c alone: up to its capacity of 4, 2 wait.
    expect(sim.counts()).toEqual({ c: 4 });
    expect(sim.leases.size).toBe(4);
  });

  it('a node that comes back takes its share again (ranBefore first)', () => {
    const sim = new Sim(cams(4));
    sim.join('a', 4);
    sim.join('b', 4);
    sim.settle();
    sim.leave('b');
    sim.settle();
    expect(sim.counts()).toEqual({ a: 4 });
    sim.join('b', 4);
    sim.settle();
    expect(sim.counts()).toEqual({ a: 2, b: 2 });
  });

  it('mixed capacities: every camera runs when the total capacity allows', () => {
    const sim = new Sim(cams(7));
    sim.join('small', 1);
    sim.join('big', 8);
    sim.join('mid', 3);
    sim.settle();
    expect(sim.leases.size).toBe(7);
    expect(sim.counts()['small']).toBe(1);
    expectEven(sim);
  });

  it('random clusters in random tick orders settle even, never doubling a camera', () => {
    const r = rng(20260415);
    for (let trial = 0; trial < 60; trial++) {
      const sim = new Sim(cams(1 + Math.floor(r() * 12)));
      const n = 2 + Math.floor(r() * 2);
      for (let i = 0; i < n; i++) sim.join(`n${i}`, 1 + Math.floor(r() * 8));
      sim.settle(200, r);
      expectEven(sim);
      // Churn: one leaves, another joins late.
      sim.leave('n0');
      sim.settle(200, r);
      expectEven(sim);
      sim.join('late', 1 + Math.floor(r() * 8));
      sim.settle(200, r);
      expectEven(sim);
    }
  });
});

describe('claimOrder', () => {
  const many = cams(60);

  it('puts the cameras the node ran before first', () => {
    const before = new Set(['cam17', 'cam42', 'cam3']);
    const order = claimOrder('node-a', many, before);
    expect(new Set(order.slice(0, 3))).toEqual(before);
    expect([...order].sort()).toEqual([...many].sort());
  });

  it('is deterministic and does not depend on the input order', () => {
    const shuffled = [...many].reverse();
    expect(claimOrder('node-a', shuffled, new Set())).toEqual(claimOrder('node-a', many, new Set()));
    expect(claimOrder('node-a', many, new Set(['cam5']))).toEqual(claimOrder('node-a', many, new Set(['cam5'])));
  });

  it('does not change its input', () => {
    const input = [...many];
    claimOrder('node-a', input, new Set(['cam9']));
    expect(input).toEqual(many);
  });

  it('two nodes order a large set differently (they do not race for the same camera first)', () => {
    const a = claimOrder('node-a', many, new Set());
    const b = claimOrder('node-b', many, new Set());
    expect(a).not.toEqual(b);
    expect(a).not.toEqual(many);
    // Nodes starting together mostly try different cameras first.
    const firsts = new Set(['node-a', 'node-b', 'node-c', 'node-d', 'node-e'].map((n) => claimOrder(n, many, new Set())[0]));
    expect(firsts.size).toBeGreaterThan(2);
  });
});
