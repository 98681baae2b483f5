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
 * unacknowledged batches stops the sources. A batch the server rejects for
 * its data is split in halves until the failing row is alone; that row
 * becomes a dead letter with the server's error.
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

export function newClient(url: string | undefined): pg.Client {
  const client = new pg.Client({ connectionString: url, application_name: 'sensei' });
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
export async function connectWithRetry(url: string | undefined, backoff: Backoff): Promise<pg.Client> {
  for (;;) {
    const client = newClient(url);
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

  const client = await connectWithRetry(url, new Backoff(retry, ctx.signal, `postgres ${tableName}`, ctx.outage));
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
      poolSize: options.number('pool_size'),
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

  /** Writes the parts, splitting on rejected data and waiting out connection failures. */
  private async deliver(lane: Lane, parts: Part[]): Promise<void> {
    for (;;) {
      parts = this.unwritten(parts);
      if (parts.length === 0) return;
      try {
        await this.transaction(lane, parts, true);
        lane.backoff.reset();
        return;
      } catch (e) {
        const kind = classify(e);
        if (kind === 'data') {
          await this.rollback(lane);
          const rows = parts.reduce((n, p) => n + p.to - p.from, 0);
          if (rows > 1) {
            const [a, b] = halves(parts, rows);
            await this.deliver(lane, a);
            await this.deliver(lane, b);
            return;
          }
          const p = parts[0]!;
          await this.reject([{ offset: p.batch.offsets[p.from]!, reason: `PostgreSQL rejected the row: ${pgMessage(e)}`, value: this.row(p.batch, p.from) }], p.batch);
          // The row is handled: record its offset as written, in a transaction of its own.
          await this.deliverOffsets(lane, parts);
          return;
        }
        this.drop(lane);
        if (kind === 'fatal') throw new Error(`postgres ${this.s.tableName}: ${pgMessage(e)}`);
        await lane.backoff.wait(e as Error);
        // The commit may have happened before the connection broke: the offsets tell.
        if (this.s.exactlyOnce) await this.reloadOffsets(lane);
      }
    }
  }

  private async deliverOffsets(lane: Lane, parts: Part[]): Promise<void> {
    if (!this.s.exactlyOnce) return;
    for (;;) {
      try {
        await this.transaction(lane, parts, false);
        return;
      } catch (e) {
        this.drop(lane);
        if (classify(e) !== 'transient') throw new Error(`postgres ${this.s.offsetsTable}: ${pgMessage(e)}`);
        await lane.backoff.wait(e as Error);
      }
    }
  }

  private async connection(lane: Lane): Promise<pg.Client> {
    if (!lane.client) lane.client = await connectWithRetry(this.s.url, lane.backoff);
    return lane.client;
  }

  /** One transaction: the rows (when `withRows`) and the offsets they reach. */
  private async transaction(lane: Lane, parts: Part[], withRows: boolean): Promise<void> {
    const client = await this.connection(lane);
    const s = this.s;
    const offsets = s.exactlyOnce ? this.reached(parts) : [];
    if (!withRows && offsets.length === 0) return;
    const inTransaction = offsets.length > 0 || s.mode === 'upsert' || !withRows;
    const finish: string[] = [];
    if (withRows) {
      const chunks = [COPY_HEADER, ...parts.map((p) => slice(p.batch, p.from, p.to)), COPY_TRAILER];
      if (s.mode === 'append') {
        if (inTransaction) await client.query('BEGIN');
        await copyFrom(client, `COPY ${s.table.sql} (${this.columns}) FROM STDIN (FORMAT binary)`, chunks);
      } else {
        finish.push(...(await this.upsertRows(client, chunks)));
      }
    } else {
      await client.query('BEGIN');
    }
    if (offsets.length > 0) finish.push(saveOffsetsSql(s.offsetsTable, this.ctx.pipeline, this.ctx.id, offsets));
    if (inTransaction) await client.query([...finish, 'COMMIT'].join('; '));
    for (const o of offsets) this.committed.set(partitionKey(o.source, o.partition), o.offset);
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
  private async upsertRows(client: pg.Client, chunks: Uint8Array[]): Promise<string[]> {
    if (this.s.directUpsert && this.directSkip === 0) {
      await client.query('BEGIN; SAVEPOINT sensei_direct');
      try {
        await copyFrom(client, `COPY ${this.s.table.sql} (${this.columns}) FROM STDIN (FORMAT binary)`, chunks);
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
    await copyFrom(client, `COPY sensei_stage (${this.columns}) FROM STDIN (FORMAT binary)`, chunks);
    return [this.mergeSql()];
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

  private async reject(rows: { offset: number; reason: string; value: unknown }[], batch: { source: string; partition: number }): Promise<void> {
    const time = new Date().toISOString();
    const letters: DeadLetter[] = rows.map((r) => ({
      pipeline: this.ctx.pipeline, source: batch.source, partition: batch.partition, offset: r.offset,
      operator: this.ctx.id, reason: r.reason, key: null, value: r.value, time,
    }));
    const sinkReject = this.ctx.reject;
    if (!sinkReject) throw new Error(`${letters[0]!.reason} (source ${batch.source}, partition ${batch.partition}, offset ${letters[0]!.offset})`);
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

/** Splits parts holding `rows` rows into two halves, in order. */
function halves(parts: Part[], rows: number): [Part[], Part[]] {
  let left = Math.floor(rows / 2);
  const a: Part[] = [];
  const b: Part[] = [];
  for (const p of parts) {
    const n = p.to - p.from;
    if (left >= n) {
      a.push(p);
      left -= n;
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

/** The server's message with its detail and SQLSTATE. */
export function pgMessage(e: unknown): string {
  const err = e as { message?: string; detail?: string; code?: string; column?: string };
  const parts = [err.message ?? String(e)];
  if (err.detail) parts.push(err.detail);
  return `${parts.join(': ')}${err.code ? ` (SQLSTATE ${err.code})` : ''}`;
}
