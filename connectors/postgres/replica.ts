/**
 * Read-replica routing for the PostgreSQL lookup: a query goes to the
 * replica while its replay lag is within `max_staleness`, else to the
 * primary, so a lagging, paused or unreachable replica never serves data
 * older than the bound.
 *
 * The lag is measured on the replica every second: zero while it has
 * replayed everything it received; at most the probe interval while its
 * replay has passed what it had received at the previous measure (it keeps
 * up, only the last few records are in flight: an idle primary's
 * bookkeeping records would otherwise count as hours of lag); else the age
 * of the last transaction it replayed (replay stopped or falling behind).
 * Until the first measure, and while the replica does not answer, the lag
 * counts as unknown and the primary serves.
 */
import type pg from 'pg';

/**
 * Received and replayed positions, whether replay has passed `$1` (what was
 * received at the previous measure), and the age of the last replayed
 * transaction.
 */
const LAG_SQL = `SELECT pg_is_in_recovery() AS standby,
    pg_last_wal_receive_lsn()::text AS received,
    pg_last_wal_replay_lsn()::text AS replayed,
    COALESCE(pg_wal_lsn_diff(pg_last_wal_replay_lsn(), $1::pg_lsn) >= 0, false) AS past_previous,
    EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) * 1000 AS xact_age_ms`;

interface LagRow {
  standby: boolean;
  received: string | null;
  replayed: string | null;
  past_previous: boolean;
  xact_age_ms: string | number | null;
}

export class ReplicaRoute {
  /** Replay lag in milliseconds; Infinity while unknown. */
  lagMs = Number.POSITIVE_INFINITY;
  /** Queries the primary answered because the replica was too far behind or away. */
  primaryQueries = 0;
  private readonly timer: NodeJS.Timeout;
  /** What the replica had received at the previous measure. */
  private previouslyReceived: string | null = null;

  constructor(
    private readonly replica: pg.Pool,
    private readonly maxStalenessMs: number,
    private readonly probeIntervalMs = 1000,
  ) {
    this.timer = setInterval(() => void this.measure(), probeIntervalMs);
    this.timer.unref();
  }

  async measure(): Promise<void> {
    try {
      const { rows } = await this.replica.query<LagRow>(LAG_SQL, [this.previouslyReceived]);
      const r = rows[0]!;
      this.previouslyReceived = r.received;
      if (!r.standby || r.received === r.replayed) this.lagMs = 0;
      else if (r.past_previous) this.lagMs = this.probeIntervalMs;
      // Behind with no transaction replayed yet (a standby fresh from its base backup): unknown.
      else this.lagMs = r.xact_age_ms === null ? Number.POSITIVE_INFINITY : Math.max(0, Number(r.xact_age_ms));
    } catch {
      this.lagMs = Number.POSITIVE_INFINITY;
    }
  }

  /** The pool the next query goes to, and whether it is the replica. */
  pick(primary: () => pg.Pool): { pool: pg.Pool; replica: boolean } {
    if (this.lagMs <= this.maxStalenessMs) return { pool: this.replica, replica: true };
    this.primaryQueries++;
    return { pool: primary(), replica: false };
  }

  /** The replica failed a query: unknown lag until the next measure answers. */
  failed(): void {
    this.lagMs = Number.POSITIVE_INFINITY;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.replica.end();
  }
}
