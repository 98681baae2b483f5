/**
 * A process's connection budget for one connector (PostgreSQL: sinks and
 * lookups together), shared by every pipeline the process runs.
 *
 * A run asks for its shares before it opens its connectors. Every sink gets
 * its minimum, and every lookup its minimum in each worker the pool may
 * grow to; then each use gets one more connection in turn (a lookup's costs
 * one per worker) while the budget lasts and the use wants more. What a run
 * holds is returned when it ends. Fixed shares rather than a semaphore: a
 * connection pool holds its connections open between queries, so only a cap
 * on each pool bounds what the server sees.
 */
import type { ConnectionDemand } from '../../src/spi/connector.ts';

export interface ConnectionUse {
  /** Sink or lookup operator id. */
  id: string;
  role: 'sink' | 'lookup';
  demand: ConnectionDemand;
}

export interface ConnectionShare {
  id: string;
  role: 'sink' | 'lookup';
  /** For a lookup: in each worker. */
  connections: number;
}

/** What one run holds of a budget, for its status. */
export interface ConnectionReport {
  connector: string;
  /** The process's budget, and the setting that sets it. */
  budget: number;
  setting: string;
  /** Held by this run: sinks plus lookups times `workers`. */
  held: number;
  /** Held by the process's runs together. */
  heldByProcess: number;
  /** The most workers this run's lookup shares were counted for. */
  workers: number;
  shares: ConnectionShare[];
}

export interface ConnectionAllotment {
  shares: ConnectionShare[];
  report(): ConnectionReport;
  release(): void;
}

export class ConnectionBudget {
  private readonly held = new Set<{ connections: number }>();

  constructor(
    readonly connector: string,
    readonly limit: number,
    /** Where the limit is set, named in errors (`postgres.connections (SENSEI_PG_CONNECTIONS)`). */
    readonly setting: string,
  ) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`${setting} must be a whole number of connections, at least 1 (got ${limit})`);
  }

  get inUse(): number {
    let n = 0;
    for (const h of this.held) n += h.connections;
    return n;
  }

  /** Shares for one run's uses of this connector, its lookups in up to `workers` workers each. */
  allot(pipeline: string, uses: readonly ConnectionUse[], workers: number): ConnectionAllotment {
    const cost = (u: ConnectionUse) => (u.role === 'lookup' ? workers : 1);
    const free = this.limit - this.inUse;
    const minimum = uses.reduce((n, u) => n + u.demand.min * cost(u), 0);
    if (minimum > free) {
      const parts = uses.map((u) => `${u.id}: ${u.demand.min}${u.role === 'lookup' ? ` in each of ${workers} workers` : ''}`).join(', ');
      const others = this.limit - free;
      throw new Error(
        `pipeline ${pipeline} needs at least ${minimum} ${this.connector} connections (${parts}), but the process's budget ${this.setting} is ${this.limit}` +
          `${others > 0 ? ` and its other pipelines hold ${others}` : ''}: raise the budget, or run fewer workers`,
      );
    }
    const shares = uses.map((u) => ({ id: u.id, role: u.role, connections: u.demand.min }));
    let left = free - minimum;
    for (let grew = true; grew; ) {
      grew = false;
      for (const [i, u] of uses.entries()) {
        const share = shares[i]!;
        if (share.connections >= u.demand.wanted || cost(u) > left) continue;
        share.connections++;
        left -= cost(u);
        grew = true;
      }
    }
    const hold = { connections: free - left };
    this.held.add(hold);
    return {
      shares,
      report: () => ({ connector: this.connector, budget: this.limit, setting: this.setting, held: hold.connections, heldByProcess: this.inUse, workers, shares }),
      release: () => this.held.delete(hold),
    };
  }
}
