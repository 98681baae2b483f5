/**
 * PostgreSQL delivery: 1M rows of 10 columns through the sink, against
 * baselines measured in the same run on the same server — a plain
 * `COPY … FROM STDIN` with pg of data already in memory (text and binary:
 * the server's ingest limit on one connection) and a multi-row INSERT loop
 * (what a user would write). Also whole pipelines into the sink: from
 * rows already Avro-encoded in memory (as a Kafka source hands them over)
 * and from datagen, which generates them on the coordinator thread. Needs
 * `scripts/services start postgres` (or SENSEI_PG_URL).
 *
 *   tsx bench/postgres.ts [--quick]      on its own
 *   benchPostgres({ quick })             from bench/run.ts
 */
import pg from 'pg';
import type { EncodedBatch, SinkContext, SinkWriter } from '../src/spi/connector.ts';
import { recordGenerator } from '../connectors/datagen/generate.ts';
import { COPY_HEADER, COPY_TRAILER, CopyEncoder } from '../connectors/postgres/copy-binary.ts';
import { copyFrom } from '../connectors/postgres/copy-in.ts';
import { openPostgresSink } from '../connectors/postgres/sink.ts';
import { createTableSql, matchColumns, readTable } from '../connectors/postgres/table.ts';
import type { ColumnCodec } from '../connectors/postgres/types.ts';
import type { ArrayRecord } from '../connectors/array-source.ts';
import { builtinConnectorSpecs, builtinEnvironment } from '../connectors/registry.ts';
import { connectorSpecs, type ConnectorEnvironment } from '../src/spi/environment.ts';
import { avroType } from '../src/formats/avro-codec.ts';
import { startPipeline, type PipelineEvent } from '../runtime/index.ts';
import { recordNode } from '../src/formats/schema.ts';
import { compile } from '../src/compile.ts';
import { pgUrl } from '../test/support/services.ts';
import { benchEnvironment } from './workload.ts';

const SCHEMA = {
  type: 'record',
  name: 'Order',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'customer_id', type: 'string' },
    { name: 'status', type: { type: 'enum', name: 'Status', symbols: ['PAID', 'PENDING', 'FAILED', 'REFUNDED'] } },
    { name: 'amount', type: { type: 'bytes', logicalType: 'decimal', precision: 12, scale: 2 } },
    { name: 'quantity', type: 'int' },
    { name: 'price', type: 'double' },
    { name: 'country', type: ['null', 'string'] },
    { name: 'created_at', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'active', type: 'boolean' },
    { name: 'email', type: 'string' },
  ],
};

const PIPELINE_SCHEMA = `schema Order {
  id: long, customer_id: string, status: enum Status { PAID, PENDING, FAILED, REFUNDED }, amount: decimal(12, 2),
  quantity: int, price: double, country: string?, created_at: timestamp_millis, active: boolean, email: string
}`;

const BATCH = 1000;
const PARTITIONS = 8;

export interface PostgresBenchResult {
  rows: number;
  bytesPerRowBinary: number;
  /** rows/s */
  copyText: number;
  copyBinary: number;
  insertLoop: { rows: number; rate: number };
  sinkAppend: number;
  sinkUpsert: number;
  /** Append into a table whose CHECK rejects a third of the rows (dead letters). */
  sinkAppendRejecting: { rows: number; rate: number; rejected: number };
  /** Whole pipelines → 2 workers → sink (append): from Avro rows in memory, and from datagen. */
  pipeline: { rows: number; rate: number; workers: number };
  pipelineDatagen: { rows: number; rate: number; workers: number };
}

/** The same text a user's COPY (text format) would send: tab-separated, \N for null, escaped strings. */
function textLine(r: Record<string, unknown>): string {
  const esc = (s: string) => s.replace(/[\\\t\n\r]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c]!);
  return `${r.id}\t${esc(r.customer_id as string)}\t${r.status}\t${(r.amount as number).toFixed(2)}\t${r.quantity}\t${r.price}\t${r.country === null ? '\\N' : esc(r.country as string)}\t${new Date(r.created_at as number).toISOString()}\t${r.active ? 't' : 'f'}\t${esc(r.email as string)}\n`;
}

export async function withClient<T>(url: string, f: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await f(c);
  } finally {
    await c.end();
  }
}

async function freshTable(url: string, name: string, key: string[] = []): Promise<void> {
  await withClient(url, async (c) => {
    await c.query(`DROP TABLE IF EXISTS ${name}`);
    await c.query(createTableSql(name, recordNode(SCHEMA), key, new Set()));
    await c.query('CHECKPOINT');
  });
}

const seconds = (started: number) => (performance.now() - started) / 1000;

/** Feeds the sink as the coordinator does: batches of 1000 per partition, at most 4 unacknowledged per partition. */
async function throughSink(sink: SinkWriter, batches: EncodedBatch[][]): Promise<void> {
  await Promise.all(batches.map(async (part) => {
    const inflight = new Set<Promise<void>>();
    for (const b of part) {
      const p = sink.write(b).then(() => void inflight.delete(p));
      inflight.add(p);
      if (inflight.size >= 4) await Promise.race(inflight);
    }
    await Promise.all(inflight);
  }));
  await sink.close();
}

/** Batches per partition in the sink's format, binary COPY tuples (what the workers send). */
function sinkBatches(codecs: ColumnCodec[], rows: Record<string, unknown>[]): EncodedBatch[][] {
  const parts: EncodedBatch[][] = Array.from({ length: PARTITIONS }, () => []);
  const copy = new CopyEncoder(recordNode(SCHEMA), codecs);
  for (let b = 0, n = 0; b * BATCH < rows.length; b++, n++) {
    const slice = rows.slice(b * BATCH, (b + 1) * BATCH);
    const partition = n % PARTITIONS;
    const r = copy.encode(slice);
    const bytes = copy.bytes();
    const from = Math.floor(n / PARTITIONS) * BATCH;
    parts[partition]!.push({
      source: 'bench', partition, count: r.count, data: new Uint8Array(bytes), ends: r.ends.slice(),
      offsets: Float64Array.from(slice, (_, i) => from + i),
    });
  }
  return parts;
}

/** How the sink writes each field into the table (read from the catalog, as the sink does). */
async function tableCodecs(url: string, table: string): Promise<ColumnCodec[]> {
  const info = await withClient(url, (c) => readTable(c, table));
  return matchColumns(info!, recordNode(SCHEMA), { tableName: table });
}

/** Rows per second through the sink, and how many it sent to the dead-letter target. */
async function sinkRun(url: string, table: string, rows: Record<string, unknown>[], options: Record<string, unknown>): Promise<{ rate: number; rejected: number }> {
  let rejected = 0;
  const ctx: SinkContext = {
    pipeline: `bench_${table}`, id: 'sink:bench:0', role: 'sink', options: { url, table, ...options } as SinkContext['options'],
    schema: SCHEMA, keySchema: 'null', signal: new AbortController().signal, reject: async (letters) => void (rejected += letters.length),
  };
  await withClient(url, (c) => c.query(`DELETE FROM sensei_offsets WHERE pipeline = $1`, [ctx.pipeline]).catch(() => undefined));
  const sink = await openPostgresSink(ctx);
  const batches = sinkBatches(await tableCodecs(url, table), rows);
  const started = performance.now();
  await throughSink(sink, batches);
  return { rate: rows.length / seconds(started), rejected };
}

export async function benchPostgres(opts: { quick?: boolean; log?: (line: string) => void } = {}): Promise<PostgresBenchResult> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const url = pgUrl();
  const rowsN = opts.quick ? 200_000 : 1_000_000;
  const insertN = opts.quick ? 20_000 : 100_000;
  const gen = recordGenerator(recordNode(SCHEMA), 42);
  const rows: Record<string, unknown>[] = Array.from({ length: rowsN }, (_, i) => ({ ...gen.record(i), id: i }));

  // Baselines: data encoded up front, one COPY on one connection.
  const text: Buffer[] = [];
  for (let i = 0; i < rowsN; i += BATCH) text.push(Buffer.from(rows.slice(i, i + BATCH).map(textLine).join('')));
  const table = 'bench_pg_orders';
  await freshTable(url, table);
  const encoder = new CopyEncoder(recordNode(SCHEMA), await tableCodecs(url, table));
  const binary: Uint8Array[] = [COPY_HEADER];
  for (let i = 0; i < rowsN; i += BATCH) {
    encoder.encode(rows.slice(i, i + BATCH));
    binary.push(new Uint8Array(encoder.bytes()));
  }
  binary.push(COPY_TRAILER);
  const binaryBytes = binary.reduce((a, b) => a + b.length, 0);

  let started = performance.now();
  await withClient(url, (c) => copyFrom(c, `COPY ${table} FROM STDIN`, text));
  const copyText = rowsN / seconds(started);

  await freshTable(url, table);
  started = performance.now();
  await withClient(url, (c) => copyFrom(c, `COPY ${table} FROM STDIN (FORMAT binary)`, binary));
  const copyBinary = rowsN / seconds(started);

  await freshTable(url, table);
  const columns = SCHEMA.fields.map((f) => f.name);
  started = performance.now();
  await withClient(url, async (c) => {
    const per = 1000;
    for (let i = 0; i < insertN; i += per) {
      const chunk = rows.slice(i, i + per);
      const values = chunk.flatMap((r) => columns.map((k) => (k === 'created_at' ? new Date(r.created_at as number) : (r as Record<string, unknown>)[k])));
      const tuples = chunk.map((_, j) => `(${columns.map((_, k) => `$${j * columns.length + k + 1}`).join(', ')})`);
      await c.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${tuples.join(', ')}`, values);
    }
  });
  const insertLoop = { rows: insertN, rate: insertN / seconds(started) };

  await freshTable(url, table);
  const sinkAppend = (await sinkRun(url, table, rows, {})).rate;
  await freshTable(url, table, ['id']);
  const sinkUpsert = (await sinkRun(url, table, rows, { mode: 'upsert' })).rate;
  // Each rejected row costs the sink a failed COPY: fewer rows, as for the INSERT loop.
  await freshTable(url, table);
  await withClient(url, (c) => c.query(`ALTER TABLE ${table} ADD CHECK (id % 3 <> 2)`));
  const sinkAppendRejecting = { rows: insertN, ...(await sinkRun(url, table, rows.slice(0, insertN), {})) };

  // Whole pipelines: the workers decode, encode binary COPY tuples; the sink writes.
  const workers = 2;
  /** A pipeline `source → sink to postgres`; with `rows`, the source is `bench`, fed the rows Avro-encoded in the source schema. */
  const pipelineRun = async (source: string, rows?: Record<string, unknown>[]) => {
    await withClient(url, (c) => c.query(`DROP TABLE IF EXISTS bench_pg_pipeline`));
    const specsEnv = rows ? benchEnvironment([], { records: 0, bytes: 0 }) : undefined;
    const compiled = compile({
      entry: 'bench.sensei',
      files: new Map([['bench.sensei', `pipeline bench_pg_${Date.now()}\n${PIPELINE_SCHEMA}\nsource orders: Order from ${source}\nsink orders to postgres { url: "${url}", table: "bench_pg_pipeline", create: true }\n`]]),
      connectors: specsEnv ? connectorSpecs(specsEnv) : builtinConnectorSpecs(),
    });
    if (!compiled.plan) throw new Error(`bench pipeline: ${compiled.diagnostics.map((d) => d.message).join('; ')}`);
    try {
      let env: ConnectorEnvironment | undefined;
      if (rows) {
        const type = avroType(compiled.plan.sources[0]!.schema);
        const parts: ArrayRecord[][] = Array.from({ length: PARTITIONS }, () => []);
        rows.forEach((r, i) => parts[i % PARTITIONS]!.push({ key: null, value: type.toBuffer(r), timestamp: 0 }));
        env = benchEnvironment(parts, { records: 0, bytes: 0 });
      }
      // Timed from the moment every partition is assigned (worker start-up excluded, as in the other sections).
      let started = performance.now();
      const onEvent = (e: PipelineEvent) => void (e.type === 'rebalance' && e.reason === 'start' && (started = performance.now()));
      const summary = await startPipeline(compiled.plan, { workers, onEvent, env: env ?? builtinEnvironment() }).done;
      return { rows: summary.recordsOut, rate: summary.recordsOut / ((performance.now() - started) / 1000), workers };
    } catch (e) {
      log(`pipeline run failed: ${(e as Error).message}`);
      return { rows: 0, rate: NaN, workers };
    }
  };
  const pipeline = await pipelineRun('bench {}', rows);
  const pipelineDatagen = await pipelineRun(`datagen { partitions: ${PARTITIONS}, count: ${rowsN}, seed: 42 }`);

  await withClient(url, (c) => c.query(`DROP TABLE IF EXISTS ${table}; DROP TABLE IF EXISTS bench_pg_pipeline`));
  const result: PostgresBenchResult = {
    rows: rowsN, bytesPerRowBinary: Math.round(binaryBytes / rowsN), copyText, copyBinary, insertLoop, sinkAppend, sinkUpsert, sinkAppendRejecting, pipeline, pipelineDatagen,
  };
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const best = Math.max(copyText, copyBinary);
  log(`\nPostgreSQL delivery: ${fmt(rowsN)} rows × 10 columns (~${result.bytesPerRowBinary} B binary), same server, same run`);
  log('| path | rows | rows/s | vs raw COPY |');
  log('|---|---:|---:|---:|');
  log(`| raw COPY FROM STDIN, text, 1 connection | ${fmt(rowsN)} | ${fmt(copyText)} | ${(copyText / best).toFixed(2)}× |`);
  log(`| raw COPY FROM STDIN, binary, 1 connection | ${fmt(rowsN)} | ${fmt(copyBinary)} | ${(copyBinary / best).toFixed(2)}× |`);
  log(`| multi-row INSERT loop (1000 rows/statement) | ${fmt(insertN)} | ${fmt(insertLoop.rate)} | ${(insertLoop.rate / best).toFixed(2)}× |`);
  log(`| sink, append (exactly-once offsets, default pool) | ${fmt(rowsN)} | ${fmt(sinkAppend)} | ${(sinkAppend / best).toFixed(2)}× |`);
  log(`| sink, upsert on the primary key | ${fmt(rowsN)} | ${fmt(sinkUpsert)} | ${(sinkUpsert / best).toFixed(2)}× |`);
  log(`| sink, append, a third rejected by a CHECK (${fmt(sinkAppendRejecting.rejected)} dead letters) | ${fmt(sinkAppendRejecting.rows)} | ${fmt(sinkAppendRejecting.rate)} | ${(sinkAppendRejecting.rate / best).toFixed(2)}× |`);
  log(`| pipeline: Avro rows in memory → ${workers} workers → sink (append) | ${fmt(pipeline.rows)} | ${fmt(pipeline.rate)} | ${(pipeline.rate / best).toFixed(2)}× |`);
  log(`| pipeline: datagen → ${workers} workers → sink (append) | ${fmt(pipelineDatagen.rows)} | ${fmt(pipelineDatagen.rate)} | ${(pipelineDatagen.rate / best).toFixed(2)}× |`);
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) await benchPostgres({ quick: process.argv.includes('--quick') });
