/**
 * The PostgreSQL sink. Records arrive as binary COPY tuples (copy-binary.ts)
 * and go through a few "lanes", one connection each; a source partition
 * always uses the same lane, so its rows commit in order. A lane that is
 * free takes everything waiting for it (up to `batch_size` rows, whole
 * runtime batches only) and writes it in one transaction:
 *
 *   append:  BEGIN · COPY table FROM STDIN · offsets · COMMIT
 *   upsert:  BEGIN · CREATE TEMP TABLE … ON COMMIT DROP · COPY stage ·
 *            DELETE tombstones + INSERT … ON CONFLICT DO UPDATE · offsets · COMMIT
 *            (first tried: SAVEPOINT · COPY table, see upsertRows)
 *
 * The offsets statement records, per source partition, the last offset
 * written (exactly-once); records at or below it are skipped, which makes a
 * replay after a restart or a commit of unknown outcome harmless. The sink
 * reports the offsets it found at open (`resumesAfter`), so that a run that
 * writes nothing new says why; `SinkContext.fromStart` deletes them instead. A write
 * resolves only when its transaction has committed: while the server is
 * down the lane retries with backoff and the runtime's bound on
 * unacknowledged batches stops the sources. When the server rejects a row
 * for its data, its COPY error names the row (`COPY t, line N`); the next
 * transaction copies the rows again under a savepoint, leaving out each row
 * a COPY names, one failed COPY per bad row (sift), and sends those rows to
 * the dead-letter target with the server's error before it commits the
 * others and the offsets of all. An error naming no row (a foreign key, a
 * deferred constraint, an upsert's merge) splits the rows in halves
 * instead, until the failing row is alone.
 *
 * Nothing is kept in the session (the staging table lives in the
 * transaction, statements are unnamed), so PgBouncer in transaction mode works.
 */
import pg from 'pg';
import { recordNode, type RecordNode } from '../../src/formats/schema.ts';
import type { Constant } from '../../src/plan/plan.ts';
import type { DeadLetter, EncodedBatch, SinkContext, SinkWriter, SourcePosition, StoredPositions } from '../../src/spi/connector.ts';
import { OptionReader } from '../options.ts';
import { COPY_HEADER, COPY_TRAILER, decodeRow } from './copy-binary.ts';
import { copyFrom } from './copy-in.ts';
import { durationOption } from '../options.ts';
import { Backoff, retryPolicy, type RetryPolicy } from '../retry.ts';
import { postgresSpec } from './spec.ts';
import {
  createTableSql, forgetOffsets, matchColumns, offsetsTableSql, quoteIdent, quoteName, readOffsets, readTable, saveOffsetsSql, type TableInfo,
} from './table.ts';
import type { ColumnCodec } from './types.ts';

/** Binary COPY tuples of one runtime batch (one source partition). */
type CopyBatch = EncodedBatch;

interface Pending {
  batch: CopyBatch;
  resolve: () => void;
  reject: (e: Error) => void;
}

/** Rows `from..to` (exclusive) of a batch. */
interface Part {
  batch: CopyBatch;
  from: number;
  to: number;
}

/** A row the server rejected (a part of one row), and its error. */
interface Rejected {
  part: Part;
  error: unknown;
}

/** The row (from 0) a COPY of some rows was rejected at, and the error. */
interface Rejection {
  at: number;
  error: unknown;
}

/** A transaction whose statements have run but the COMMIT (`finish` holds the last ones, sent with it). */
interface OpenTransaction {
  client: pg.Client;
  offsets: SourcePosition[];
  rejected: Rejected[];
  finish: string[];
  inTransaction: boolean;
  /** The parts left for the next transaction. */
  rest: Part[];
}

/**
 * How sift copies (see there): rows carried at most, fewest new rows in a
 * probe, new rows per row between bad ones, and rows sifted in one
 * transaction after the named one (it then keeps at most SIFT_ROWS /
 * MAX_CARRIED + 2 subtransactions).
 */
const MAX_CARRIED = 64;
const MIN_PROBE = 64;
const PROBE_REACH = 4;
const SIFT_ROWS = 32 * MAX_CARRIED;

interface Lane {
  id: number;
  client: pg.Client | undefined;
  queue: Pending[];
  queuedRows: number;
  busy: boolean;
  timer: NodeJS.Timeout | undefined;
  backoff: Backoff;
}

export interface PostgresSinkSettings {
  url: string | undefined;
  tableName: string;
  table: TableInfo;
  schema: RecordNode;
  codecs: ColumnCodec[];
  mode: 'append' | 'upsert';
  key: string[];
  /** Upsert may first try a plain COPY into the table: the key is its immediate primary key, no tombstones, no rules. */
  directUpsert: boolean;
  deleteField: string | undefined;
  batchSize: number;
  lingerMs: number;
  poolSize: number;
  exactlyOnce: boolean;
  offsetsTable: string;
  retry: RetryPolicy;
}

export const connectionUrl = (options: OptionReader): string | undefined => options.optionalString('url') ?? process.env.SENSEI_PG_URL;

/** A connection named after its pipeline, so `pg_stat_activity` shows whose it is. */
function newClient(url: string | undefined, pipeline: string): pg.Client {
  const client = new pg.Client({ connectionString: url, application_name: `sensei:${pipeline}` });
  // An idle connection the server closes (restart) reports here; the next use finds it broken.
  client.on('error', () => {});
  return client;
}

/** What to do about an error: split the batch (the data), reconnect and retry, or stop the run. */
export function classify(e: unknown): 'data' | 'transient' | 'fatal' {
  const { code, syscall } = e as { code?: unknown; syscall?: unknown };
  // A socket error (write EPIPE, read ECONNRESET): its code can look like a SQLSTATE, but the connection broke.
  if (typeof syscall === 'string') return 'transient';
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
    if (code.startsWith('22') || code.startsWith('23')) return 'data';
    if (/^(08|53|58)/.test(code) || ['57P01', '57P02', '57P03', '57014', '40001', '40P01', '55P03', '25P03'].includes(code)) return 'transient';
    return 'fatal';
  }
  // No SQLSTATE: the socket (refused, reset, terminated) or pg's "not queryable" state.
  return e instanceof TypeError || e instanceof RangeError ? 'fatal' : 'transient';
}

/** Connects with retries (the server may be starting): what open and every reconnect go through. */
async function connectWithRetry(url: string | undefined, pipeline: string, backoff: Backoff): Promise<pg.Client> {
  for (;;) {
    const client = newClient(url, pipeline);
    try {
      await client.connect();
      backoff.reset();
      return client;
    } catch (e) {
      void client.end().catch(() => {});
      if (classify(e) !== 'transient') throw e;
      await backoff.wait(e as Error);
    }
  }
}

export async function openPostgresSink(ctx: SinkContext): Promise<SinkWriter> {
  const options = new OptionReader(postgresSpec, ctx.options);
  const url = connectionUrl(options);
  const tableName = options.string('table');
  const mode = options.oneOf('mode', ['append', 'upsert'] as const);
  const schema = recordNode(ctx.schema);
  const deleteField = options.optionalString('delete_field');
  const retry = retryPolicy(ctx.options);
  const offsetsTable = quoteName(options.string('offsets_table'));
  const exactlyOnce = options.boolean('exactly_once');
  if (deleteField !== undefined && mode !== 'upsert') throw new Error('postgres: delete_field needs mode: upsert');
  if (deleteField !== undefined && !schema.fields.some((f) => f.name === deleteField)) throw new Error(`postgres: delete_field ${deleteField} is not a field of the stream`);

  const client = await connectWithRetry(url, ctx.pipeline, new Backoff(retry, ctx.signal, `postgres ${tableName}`, ctx.outage));
  try {
    const sql = quoteName(tableName);
    let table = await readTable(client, sql);
    const declaredKey = keyOption(ctx.options.key);
    if (!table) {
      if (!options.boolean('create')) throw new Error(`postgres: table ${tableName} does not exist (set create: true to create it from the stream's schema)`);
      if (mode === 'upsert' && declaredKey.length === 0) throw new Error(`postgres: mode upsert with create: true needs key: the columns of the primary key`);
      await client.query(createTableSql(sql, schema, declaredKey, new Set(deleteField ? [deleteField] : [])));
      table = (await readTable(client, sql))!;
    }
    const codecs = matchColumns(table, schema, { deleteField, tableName });
    const key = declaredKey.length > 0 ? declaredKey : table.primaryKey;
    if (mode === 'upsert') {
      if (key.length === 0) throw new Error(`postgres: mode upsert needs key, and table ${tableName} has no primary key`);
      const missing = key.find((k) => !schema.fields.some((f) => f.name === k) || k === deleteField);
      if (missing) throw new Error(`postgres: key column "${missing}" is not a field of the stream`);
    }
    const directUpsert = mode === 'upsert' && deleteField === undefined && await primaryKeyIsArbiter(client, table, key);
    let stored: SourcePosition[] = [];
    if (exactlyOnce) {
      await client.query(offsetsTableSql(offsetsTable));
      // Forgotten at start rather than with the first write: a run that fails before writing has still been asked to start over.
      if (ctx.fromStart) await forgetOffsets(client, offsetsTable, ctx.pipeline, ctx.id);
      else stored = await readOffsets(client, offsetsTable, ctx.pipeline, ctx.id);
    }
    return new PostgresSink(ctx, {
      url, tableName, table, schema, codecs, mode, key, directUpsert, deleteField,
      batchSize: options.number('batch_size'),
      lingerMs: durationOption(ctx.options, 'linger', '0ms'),
      poolSize: Math.min(options.number('pool_size'), ctx.connections ?? Number.POSITIVE_INFINITY),
      exactlyOnce, offsetsTable, retry,
    }, stored.length > 0 ? { store: `table ${options.string('offsets_table')}`, positions: stored } : undefined);
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Whether the table's primary key rejects exactly what ON CONFLICT (key) would
 * merge: the key columns are the primary key, checked immediately (ON CONFLICT
 * refuses a deferrable one), and no rules (COPY would bypass them).
 */
async function primaryKeyIsArbiter(client: pg.Client, table: TableInfo, key: string[]): Promise<boolean> {
  if (key.length !== table.primaryKey.length || !key.every((k) => table.primaryKey.includes(k))) return false;
  const { rows } = await client.query<{ ok: boolean }>(
    'SELECT i.indimmediate AND NOT c.relhasrules AS ok FROM pg_class c JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary WHERE c.oid = to_regclass($1)',
    [table.sql],
  );
  return rows[0]?.ok === true;
}

function keyOption(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v.map(String) : [String(v)];
}

const partitionKey = (source: string, partition: number) => `${source}\u0000${partition}`;

export class PostgresSink implements SinkWriter {
  /** Workers encode the records as binary COPY tuples, in parallel; here they are only concatenated. */
  readonly format = 'pg-binary';
  readonly formatOptions: Constant;
  private readonly lanes: Lane[];
  private readonly columns: string;
  private failed: Error | undefined;
  private closed = false;
  private readonly idle: (() => void)[] = [];
  /** COPY statements sent, and those the server rejected for their data. */
  readonly stats = { copies: 0, rejectedCopies: 0 };
  /** Upserts (of any lane) left before the next direct COPY attempt, and the pause after the last miss. */
  private directSkip = 0;
  private directPause = 0;
  /** Last offset written per source partition. */
  private readonly committed = new Map<string, number>();

  constructor(
    private readonly ctx: SinkContext,
    private readonly s: PostgresSinkSettings,
    /** The offsets earlier runs stored (exactly-once): records at or below them are skipped. */
    readonly resumesAfter?: StoredPositions,
  ) {
    for (const r of resumesAfter?.positions ?? []) this.committed.set(partitionKey(r.source, r.partition), r.offset);
    this.lanes = Array.from({ length: s.poolSize }, (_, id) => ({
      id, client: undefined, queue: [], queuedRows: 0, busy: false, timer: undefined,
      backoff: new Backoff(s.retry, ctx.signal, `postgres ${s.tableName}`, ctx.outage),
    }));
    this.columns = s.schema.fields.map((f) => quoteIdent(f.name)).join(', ');
    this.formatOptions = s.codecs as unknown as Constant;
  }

  write(batch: EncodedBatch): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    if (batch.count === 0) return Promise.resolve();
    const lane = this.lanes[laneOf(batch.source, batch.partition, this.lanes.length)]!;
    return new Promise((resolve, reject) => {
      lane.queue.push({ batch, resolve, reject });
      lane.queuedRows += batch.count;
      this.kick(lane);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    while (!this.failed && this.lanes.some((l) => l.busy || l.queue.length > 0)) await new Promise<void>((r) => this.idle.push(r));
    for (const lane of this.lanes) {
      clearTimeout(lane.timer);
      await lane.client?.end().catch(() => {});
      lane.client = undefined;
    }
  }

  private kick(lane: Lane): void {
    if (lane.busy || lane.queue.length === 0 || this.failed) return;
    if (lane.queuedRows < this.s.batchSize && this.s.lingerMs > 0 && !this.closed) {
      lane.timer ??= setTimeout(() => {
        lane.timer = undefined;
        this.run(lane);
      }, this.s.lingerMs);
      return;
    }
    this.run(lane);
  }

  private run(lane: Lane): void {
    if (lane.busy || lane.queue.length === 0 || this.failed) return;
    clearTimeout(lane.timer);
    lane.timer = undefined;
    lane.busy = true;
    const taken: Pending[] = [];
    let rows = 0;
    while (lane.queue.length > 0 && (taken.length === 0 || rows + lane.queue[0]!.batch.count <= this.s.batchSize)) {
      const p = lane.queue.shift()!;
      rows += p.batch.count;
      taken.push(p);
    }
    lane.queuedRows -= rows;
    this.deliver(lane, taken.map((p) => ({ batch: p.batch, from: 0, to: p.batch.count }))).then(
      () => {
        for (const p of taken) p.resolve();
        lane.busy = false;
        this.kick(lane);
        this.notifyIdle();
      },
      (e: Error) => {
        this.failed = e;
        for (const p of taken) p.reject(e);
        for (const l of this.lanes) for (const p of l.queue.splice(0)) p.reject(e);
        lane.busy = false;
        this.notifyIdle();
      },
    );
  }

  private notifyIdle(): void {
    for (const r of this.idle.splice(0)) r();
  }

  /**
   * Writes the parts, waiting out connection failures. When the server
   * rejects a row for its data and names it, the next attempt sifts the rows
   * from there (sift) and sends the rejected ones to the dead-letter target
   * before its COMMIT; a rejection naming no row halves the rows instead,
   * until the failing row is alone.
   */
  private async deliver(lane: Lane, parts: Part[]): Promise<void> {
    let named: Rejection | undefined;
    for (;;) {
      const rows = count(parts);
      parts = this.unwritten(parts);
      if (parts.length === 0) return;
      // Another process may have written some of them meanwhile: a named row counts from the first.
      if (count(parts) !== rows) named = undefined;
      let failure: unknown;
      let open: OpenTransaction | undefined;
      try {
        open = await this.transaction(lane, parts, true, named);
      } catch (e) {
        failure = e;
      }
      if (open) {
        // Before the COMMIT: a crash between them sends these again on the replay, never loses them.
        await this.reject(open.rejected);
        try {
          await this.commit(open);
          lane.backoff.reset();
          if (open.rest.length === 0) return;
          parts = open.rest;
          named = undefined;
          continue;
        } catch (e) {
          failure = e;
        }
      }
      const kind = classify(failure);
      if (kind === 'data') {
        await this.rollback(lane);
        const at = named === undefined ? copyPosition(failure, count(parts))?.row : undefined;
        if (at !== undefined) {
          named = { at, error: failure };
          continue;
        }
        if (count(parts) > 1) {
          const [a, b] = cut(parts, Math.floor(count(parts) / 2));
          await this.deliver(lane, a);
          await this.deliver(lane, b);
          return;
        }
        await this.reject([{ part: parts[0]!, error: failure }]);
        // The row is handled: record its offset as written, in a transaction of its own.
        await this.deliverOffsets(lane, parts);
        return;
      }
      this.drop(lane);
      if (kind === 'fatal') throw new Error(`postgres ${this.s.tableName}: ${pgMessage(failure)}`);
      await lane.backoff.wait(failure as Error);
      // The commit may have happened before the connection broke: the offsets tell.
      if (this.s.exactlyOnce) await this.reloadOffsets(lane);
    }
  }

  private async deliverOffsets(lane: Lane, parts: Part[]): Promise<void> {
    if (!this.s.exactlyOnce) return;
    for (;;) {
      try {
        await this.commit(await this.transaction(lane, parts, false));
        return;
      } catch (e) {
        this.drop(lane);
        if (classify(e) !== 'transient') throw new Error(`postgres ${this.s.offsetsTable}: ${pgMessage(e)}`);
        await lane.backoff.wait(e as Error);
      }
    }
  }

  private async connection(lane: Lane): Promise<pg.Client> {
    if (!lane.client) lane.client = await connectWithRetry(this.s.url, this.ctx.pipeline, lane.backoff);
    return lane.client;
  }

  /**
   * One transaction up to its COMMIT (commit): the rows (when `withRows`) and
   * the offsets they reach. With `named`, the row a COPY of these rows was
   * rejected at, it sifts (sift) that row's predecessors and SIFT_ROWS rows
   * after it, and leaves the rest to the next transaction; what the server
   * rejected is in the result, every statement but the COMMIT already run.
   */
  private async transaction(lane: Lane, parts: Part[], withRows: boolean, named?: Rejection): Promise<OpenTransaction> {
    const client = await this.connection(lane);
    const s = this.s;
    const [rows, rest] = named ? cut(parts, named.at + 1 + SIFT_ROWS) : [parts, []];
    const offsets = s.exactlyOnce ? this.reached(rows) : [];
    const open: OpenTransaction = {
      client, offsets, rejected: [], finish: [], rest,
      inTransaction: offsets.length > 0 || s.mode === 'upsert' || !withRows || named !== undefined,
    };
    if (!withRows && offsets.length === 0) return open;
    if (!withRows) {
      await client.query('BEGIN');
    } else if (named) {
      await client.query(s.mode === 'append' ? 'BEGIN' : `BEGIN; ${this.stageSql()}`);
      open.rejected = await this.sift(client, s.mode === 'append' ? s.table.sql : 'sensei_stage', rows, named);
      if (s.mode === 'upsert') open.finish.push(this.mergeSql());
    } else if (s.mode === 'append') {
      if (open.inTransaction) await client.query('BEGIN');
      await this.copy(client, s.table.sql, rows);
    } else {
      open.finish.push(...(await this.upsertRows(client, rows)));
    }
    if (offsets.length > 0) open.finish.push(saveOffsetsSql(s.offsetsTable, this.ctx.pipeline, this.ctx.id, offsets));
    if (named && open.finish.length > 0) {
      // A merge that fails must fail before the rejected rows become dead letters.
      await client.query(open.finish.join('; '));
      open.finish = [];
    }
    return open;
  }

  /** The COMMIT, with the statements left before it; then the offsets count as written. */
  private async commit(open: OpenTransaction): Promise<void> {
    if (open.inTransaction) await open.client.query([...open.finish, 'COMMIT'].join('; '));
    for (const o of open.offsets) this.committed.set(partitionKey(o.source, o.partition), o.offset);
  }

  /**
   * Copies the rows into `target` but those the server rejects, which it
   * returns, given the row `named` a COPY of them was rejected at. Each COPY
   * runs under a savepoint and either passes or names a bad row, which is
   * left out from then on: every rejected row costs one failed COPY.
   *
   * The rows before a named row passed the checks of each row, but not
   * always those of the unique indexes yet: PostgreSQL inserts a COPY's rows
   * in buffers of up to 1000, so a duplicate key may surface after a later
   * row's CHECK failure. These "carried" rows open the next COPY (a probe),
   * followed by new rows; a probe that passes without reaching the last row
   * is rolled back (its rows are carried further), since every subtransaction
   * kept in a transaction counts (past 64 they slow every snapshot on the
   * server). Once MAX_CARRIED rows are carried, they are copied alone and
   * kept. A probe takes PROBE_REACH times the distance between the last two
   * bad rows beyond the carried ones, not the whole rest (the server stops at
   * the first bad row, but every row still travels), and twice as many after
   * a probe that passed.
   */
  private async sift(client: pg.Client, target: string, rows: Part[], named: Rejection): Promise<Rejected[]> {
    const rejected: Rejected[] = [];
    let pending = rows;
    /** The first `carried` pending rows passed a COPY up to a later bad row; `lastBad`: the pending index of the last rejected row. */
    let carried = 0;
    let lastBad = -1;
    let take = 0;
    let next: Rejection | undefined = named;
    /** Where the savepoint stands: none, its subtransaction to keep, or to roll back. */
    let savepoint: 'none' | 'keep' | 'undo' = 'none';
    const enter = { none: 'SAVEPOINT sensei_sift; ', keep: 'RELEASE SAVEPOINT sensei_sift; SAVEPOINT sensei_sift; ', undo: 'ROLLBACK TO SAVEPOINT sensei_sift; ' };
    for (;;) {
      if (next) {
        const [before, from] = cut(pending, next.at);
        const [row, after] = cut(from, 1);
        rejected.push({ part: row[0]!, error: next.error });
        pending = [...before, ...after];
        take = Math.max(MIN_PROBE, PROBE_REACH * (next.at - lastBad));
        carried = next.at;
        lastBad = next.at - 1;
        next = undefined;
      }
      const left = count(pending);
      if (left === 0) {
        if (savepoint === 'undo') await client.query('ROLLBACK TO SAVEPOINT sensei_sift; RELEASE SAVEPOINT sensei_sift');
        return rejected;
      }
      const alone = carried >= MAX_CARRIED || carried === left;
      const [batch] = cut(pending, alone ? carried : Math.min(left, carried + take));
      const size = count(batch);
      try {
        await this.copy(client, target, batch, enter[savepoint]);
      } catch (e) {
        savepoint = 'undo';
        const at = classify(e) === 'data' ? copyPosition(e, size)?.row : undefined;
        if (at === undefined) throw e;
        next = { at, error: e };
        continue;
      }
      if (size === left) return rejected;
      if (alone) {
        savepoint = 'keep';
        pending = cut(pending, size)[1];
        lastBad -= size;
        carried = 0;
      } else {
        savepoint = 'undo';
        carried = size;
        take *= 2;
      }
    }
  }

  /** Per source partition, the last offset whose records are all in these parts. */
  private reached(parts: Part[]): SourcePosition[] {
    const out = new Map<string, SourcePosition>();
    for (const p of parts) {
      const { offsets } = p.batch;
      let last = p.to - 1;
      // A split inside the records of one offset (flat map) does not complete it.
      if (p.to < p.batch.count) while (last >= p.from && offsets[last] === offsets[p.to]) last--;
      if (last < p.from) continue;
      out.set(partitionKey(p.batch.source, p.batch.partition), { source: p.batch.source, partition: p.batch.partition, offset: offsets[last]! });
    }
    return [...out.values()];
  }

  /** The parts minus the records at or below the committed offset of their partition. */
  private unwritten(parts: Part[]): Part[] {
    if (!this.s.exactlyOnce || this.committed.size === 0) return parts;
    const out: Part[] = [];
    for (const p of parts) {
      const done = this.committed.get(partitionKey(p.batch.source, p.batch.partition));
      let from = p.from;
      if (done !== undefined) while (from < p.to && p.batch.offsets[from]! <= done) from++;
      if (from < p.to) out.push({ ...p, from });
    }
    return out;
  }

  private async reloadOffsets(lane: Lane): Promise<void> {
    for (;;) {
      try {
        const rows = await readOffsets(await this.connection(lane), this.s.offsetsTable, this.ctx.pipeline, this.ctx.id);
        for (const r of rows) {
          const k = partitionKey(r.source, r.partition);
          this.committed.set(k, Math.max(r.offset, this.committed.get(k) ?? -Infinity));
        }
        return;
      } catch (e) {
        this.drop(lane);
        if (classify(e) !== 'transient') throw e;
        await lane.backoff.wait(e as Error);
      }
    }
  }

  /**
   * Upsert: begins the transaction and writes the rows, returning the statements
   * still to run before COMMIT. Most of an upsert's cost is the staging table, the
   * sort and ON CONFLICT's speculative insertion of every row; a stream of mostly
   * new keys does not need them. So when the primary key is the key, the rows are
   * first copied straight into the table under a savepoint: that succeeds exactly
   * when every key of the batch is new and appears once. On any error the savepoint
   * is rolled back and the batch takes the staging path, which decides (a record
   * overtaken by a later one of its key is never judged; two lanes copying the same
   * new keys in different orders may deadlock, and the one PostgreSQL aborts after
   * deadlock_timeout takes that path too). After a miss the sink skips the attempt
   * for 1, 2, 4 … 256 upserts, so an update-heavy stream wastes at most one COPY in 256.
   */
  private async upsertRows(client: pg.Client, rows: Part[]): Promise<string[]> {
    if (this.s.directUpsert && this.directSkip === 0) {
      await client.query('BEGIN; SAVEPOINT sensei_direct');
      try {
        await this.copy(client, this.s.table.sql, rows);
        this.directPause = 0;
        return [];
      } catch {
        this.directPause = Math.min(256, Math.max(1, this.directPause * 2));
        this.directSkip = this.directPause;
        // Back in the transaction proper; a broken connection fails this too, and deliver() sees that error.
        await client.query(`ROLLBACK TO SAVEPOINT sensei_direct; RELEASE SAVEPOINT sensei_direct; ${this.stageSql()}`);
      }
    } else {
      this.directSkip = Math.max(0, this.directSkip - 1);
      await client.query(`BEGIN; ${this.stageSql()}`);
    }
    await this.copy(client, 'sensei_stage', rows);
    return [this.mergeSql()];
  }

  /** `COPY target FROM STDIN` of the rows, after the statements `before`; counted in `stats`. */
  private async copy(client: pg.Client, target: string, rows: Part[], before = ''): Promise<void> {
    this.stats.copies++;
    try {
      await copyFrom(client, `${before}COPY ${target} (${this.columns}) FROM STDIN (FORMAT binary)`, [COPY_HEADER, ...rows.map((p) => slice(p.batch, p.from, p.to)), COPY_TRAILER]);
    } catch (e) {
      if (classify(e) === 'data') this.stats.rejectedCopies++;
      throw e;
    }
  }

  private stageSql(): string {
    const { table, schema, deleteField } = this.s;
    const types = new Map(table.columns.map((c) => [c.name, c.type]));
    const cols = schema.fields.map((f) => `${quoteIdent(f.name)} ${f.name === deleteField ? 'boolean' : types.get(f.name)!}`);
    return `CREATE TEMP TABLE sensei_stage (${cols.join(', ')}, sensei_seq bigint GENERATED ALWAYS AS IDENTITY) ON COMMIT DROP`;
  }

  /** The last record of each key wins: a tombstone deletes the row, anything else inserts or updates it. */
  private mergeSql(): string {
    const { table, schema, key, deleteField } = this.s;
    const keys = key.map(quoteIdent);
    const cols = schema.fields.filter((f) => f.name !== deleteField).map((f) => quoteIdent(f.name));
    const update = cols.filter((c) => !keys.includes(c)).map((c) => `${c} = EXCLUDED.${c}`);
    const latest = `latest AS (SELECT DISTINCT ON (${keys.join(', ')}) * FROM sensei_stage ORDER BY ${keys.join(', ')}, sensei_seq DESC)`;
    const onConflict = update.length > 0 ? `DO UPDATE SET ${update.join(', ')}` : 'DO NOTHING';
    const insert = `INSERT INTO ${table.sql} (${cols.join(', ')}) SELECT ${cols.join(', ')} FROM latest${deleteField ? ` WHERE ${quoteIdent(deleteField)} IS NOT TRUE` : ''} ON CONFLICT (${keys.join(', ')}) ${onConflict}`;
    if (!deleteField) return `WITH ${latest} ${insert}`;
    const match = keys.map((k) => `t.${k} = l.${k}`).join(' AND ');
    return `WITH ${latest}, deleted AS (DELETE FROM ${table.sql} t USING latest l WHERE l.${quoteIdent(deleteField)} AND ${match}) ${insert}`;
  }

  private async rollback(lane: Lane): Promise<void> {
    try {
      await lane.client?.query('ROLLBACK');
    } catch {
      this.drop(lane);
    }
  }

  /** Forgets a connection that failed; the next transaction opens a new one. */
  private drop(lane: Lane): void {
    const client = lane.client;
    lane.client = undefined;
    void client?.end().catch(() => {});
  }

  private row(batch: CopyBatch, i: number): Record<string, unknown> {
    return decodeRow(this.s.schema.fields.map((f) => f.name), this.s.codecs, slice(batch, i, i + 1));
  }

  private async reject(rows: Rejected[]): Promise<void> {
    if (rows.length === 0) return;
    const time = new Date().toISOString();
    const letters: DeadLetter[] = rows.map(({ part: { batch, from }, error }) => ({
      pipeline: this.ctx.pipeline, source: batch.source, partition: batch.partition, offset: batch.offsets[from]!,
      operator: this.ctx.id, reason: `PostgreSQL rejected the row: ${pgMessage(error)}`, key: null, value: this.row(batch, from), time,
    }));
    const sinkReject = this.ctx.reject;
    if (!sinkReject) throw new Error(`${letters[0]!.reason} (source ${letters[0]!.source}, partition ${letters[0]!.partition}, offset ${letters[0]!.offset})`);
    await sinkReject(letters);
  }
}

function laneOf(source: string, partition: number, lanes: number): number {
  let h = 0;
  for (let i = 0; i < source.length; i++) h = (h * 31 + source.charCodeAt(i)) | 0;
  return (((h + partition) % lanes) + lanes) % lanes;
}

function slice(batch: CopyBatch, from: number, to: number): Uint8Array {
  return batch.data.subarray(from === 0 ? 0 : batch.ends[from - 1]!, batch.ends[to - 1]!);
}

/** The first `n` rows of the parts and the rest, in order. */
function cut(parts: Part[], n: number): [Part[], Part[]] {
  const a: Part[] = [];
  const b: Part[] = [];
  let left = n;
  for (const p of parts) {
    const size = p.to - p.from;
    if (left >= size) {
      a.push(p);
      left -= size;
    } else if (left > 0) {
      a.push({ ...p, to: p.from + left });
      b.push({ ...p, from: p.from + left });
      left = 0;
    } else {
      b.push(p);
    }
  }
  return [a, b];
}

const count = (parts: Part[]): number => parts.reduce((n, p) => n + p.to - p.from, 0);

/**
 * Where a COPY failed, from the error's context (`COPY orders, line 3, column
 * amount`, the last context line; a trigger's lines come before it): the row
 * from 0 when it is one of the `rows` copied, and the column when named.
 */
function copyPosition(e: unknown, rows = Infinity): { row: number; column: string | undefined } | undefined {
  const where = (e as { where?: unknown }).where;
  if (typeof where !== 'string') return undefined;
  const m = [...where.matchAll(/^COPY .+?, line (\d+)(?:, column (.+?))?(?:: .*)?$/gm)].at(-1);
  if (!m) return undefined;
  const row = Number(m[1]) - 1;
  return row >= 0 && row < rows ? { row, column: m[2] } : undefined;
}

/** The server's message with its detail, the column it names and SQLSTATE. */
export function pgMessage(e: unknown): string {
  const err = e as { message?: string; detail?: string; code?: string; column?: string };
  const parts = [err.message ?? String(e)];
  if (err.detail) parts.push(err.detail);
  const column = err.column ?? copyPosition(e)?.column;
  const about = [...(column ? [`column ${column}`] : []), ...(err.code ? [`SQLSTATE ${err.code}`] : [])];
  return `${parts.join(': ')}${about.length > 0 ? ` (${about.join(', ')})` : ''}`;
}
