/**
 * A worker thread: owns the tasks (source partitions) the coordinator
 * assigns it, runs each batch through the source's fused chain and sends
 * back the output already encoded for each sink.
 *
 * Batches wait in a queue per task and run one per event-loop turn, so
 * messages keep arriving between batches. A `release` is answered once the
 * task's own queue is empty (that drains a moving partition), and a task
 * being released goes first: its move waits for its own few batches, not
 * for everything queued on the worker.
 *
 * A chain with lookups runs a batch asynchronously (its records wait for the
 * lookup clients the worker opened at init); meanwhile other tasks take
 * their turns, but the task itself takes none until the batch is posted, so
 * a partition's results stay in order. Chains without lookups stay synchronous.
 *
 * Sinks that write from the workers (`SinkWriter.inWorkers`: the Kafka
 * producer, whose record encoding would otherwise cap the coordinator's
 * thread) are opened here at init; a batch's result goes back at once and a
 * `written` message follows when those sinks have accepted its output.
 */
import { deserialize, serialize } from 'node:v8';
import { parentPort } from 'node:worker_threads';
import type { PartitionState } from '../../src/plan/chain.ts';
import type { LookupClient, SourceRecords, WorkerSinkWriter } from '../../src/spi/connector.ts';
import type { ConnectorEnvironment } from '../../src/spi/environment.ts';
import { decodeRecords } from '../../src/formats/avro-codec.ts';
import { TaskOperators } from '../operators/task-operators.ts';
import { BatchRunner, chunkFor, taskTime, type BatchInput, type BatchResult, type Chain } from './batch.ts';
import { BUILTIN_FORMATS, transferList, type BatchMessage, type EndMessage, type FromWorker, type InitMessage, type ToWorker } from './wire.ts';

const port = parentPort!;
/** What the worker bundle has built in (see bundle.ts). */
let bundled: BundledParts = {};
/** The connectors, built from the environment's worker module when first needed. */
let environment: Promise<ConnectorEnvironment> | undefined;

interface Task {
  id: number;
  chain: Chain;
  partition: number;
  /** Its stateful operators, their stores and its event time. */
  operators: TaskOperators;
  failed: boolean;
  queue: (BatchMessage | EndMessage)[];
  releasing: boolean;
  /** A batch of it is waiting for lookups. */
  busy: boolean;
  /** Its writes to the worker's own sinks in flight: a move waits for them, so the next owner's writes come after. */
  writes: Set<Promise<void>>;
}

let init: InitMessage;
let runner: BatchRunner;
/** The lookup clients of each chain with lookups, by lookup index. */
const lookupClients = new Map<Chain, LookupClient[]>();
/** Sinks this worker writes itself, by sink index. */
const workerSinks = new Map<number, WorkerSinkWriter>();
const tasks = new Map<number, Task>();
/** Tasks with queued batches, in the order they get a turn. */
const ready: Task[] = [];
let scheduled = false;
/** Messages that arrive while the lib module loads. */
let pending: ToWorker[] | undefined = [];

function post(msg: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(msg, transfer);
}

/** The parts a worker bundle has built in: the chains' lib, and a loader of the environment's worker module. */
export interface BundledParts {
  lib?: unknown;
  environment?: () => Promise<{ environment(): ConnectorEnvironment }>;
}

/** Starts handling the coordinator's messages. */
export function startWorker(parts: BundledParts = {}): void {
  bundled = parts;
  port.on('message', (msg: ToWorker) => {
    if (msg.type === 'init') {
      start(msg).catch((e: Error) => post({ type: 'failed', message: `worker setup: ${e.message}`, stack: e.stack }));
    } else if (pending) {
      pending.push(msg);
    } else {
      handle(msg);
    }
  });
}

async function start(msg: InitMessage): Promise<void> {
  init = msg;
  const lib = bundled.lib ?? ((await import(msg.libModule)) as { stdlib: unknown }).stdlib;
  const formats = msg.sinks.some((s) => !BUILTIN_FORMATS.includes(s.format)) ? (await connectors()).connectors : undefined;
  runner = new BatchRunner(msg, lib, (sink) => formats?.get(sink.connector)?.runtime.formats?.[sink.format]);
  await openLookups(msg);
  await openWorkerSinks(msg);
  post({ type: 'ready', workerId: msg.workerId });
  const queued = pending!;
  pending = undefined;
  for (const m of queued) handle(m);
}

async function openLookups(msg: InitMessage): Promise<void> {
  const chains = runner.chains.filter((c) => c.lookups);
  if (chains.length === 0) return;
  const env = await connectors();
  for (const chain of chains) {
    const clients: LookupClient[] = [];
    lookupClients.set(chain, clients);
    for (const l of chain.lookups!) {
      const open = env.connectors.get(l.connector)?.runtime.openLookup;
      if (!open) throw new Error(`operator ${l.id}: connector ${l.connector} cannot look up records`);
      const connections = msg.lookupConnections[l.id];
      clients.push(await open({ pipeline: msg.pipeline, id: l.id, options: l.options, schema: l.schema, keySchema: l.keySchema, ...(connections === undefined ? {} : { connections }) }));
    }
  }
  reportLookupStats(chains);
}

/** What the lookup clients measure (a replica's lag), to the coordinator every second. */
function reportLookupStats(chains: Chain[]): void {
  const measured = chains.flatMap((c) => c.lookups!.flatMap((l, i) => {
    const client = lookupClients.get(c)![i]!;
    return client.stats ? [{ id: l.id, client }] : [];
  }));
  if (measured.length === 0) return;
  setInterval(() => post({ type: 'lookup-stats', stats: measured.map(({ id, client }) => ({ id, ...client.stats!() })) }), 1000).unref();
}

async function openWorkerSinks(msg: InitMessage): Promise<void> {
  if (!msg.sinks.some((s) => s.inWorkers)) return;
  const env = await connectors();
  for (const [i, s] of msg.sinks.entries()) {
    if (!s.inWorkers) continue;
    const open = env.connectors.get(s.inWorkers.connector)?.runtime.openWorkerSink;
    if (!open) throw new Error(`sink ${s.id}: connector ${s.inWorkers.connector} cannot write from workers`);
    workerSinks.set(i, await open({ pipeline: msg.pipeline, id: s.id, setup: s.inWorkers.setup, schema: s.schema, keySchema: s.keySchema }));
  }
}

/** The connectors in this worker; loaded only by workers that need them (their client libraries are large). */
function connectors(): Promise<ConnectorEnvironment> {
  environment ??= (async () => {
    const module = init.environment.module;
    if (!module) throw new Error('the connector environment has no worker module');
    const loaded = bundled.environment ? await bundled.environment() : ((await import(module)) as { environment(): ConnectorEnvironment });
    return loaded.environment();
  })();
  return environment;
}

/** Writes in flight to the worker's own sinks; `close` waits for them. */
const writing = new Set<Promise<void>>();

async function close(): Promise<void> {
  await Promise.allSettled([...writing]);
  await Promise.allSettled([...workerSinks.values()].map((w) => w.close()));
  await Promise.allSettled([...lookupClients.values()].flat().map((c) => c.close()));
  post({ type: 'closed' });
}

function handle(msg: ToWorker): void {
  switch (msg.type) {
    case 'close':
      void close();
      break;
    case 'assign': {
      const chain = runner.chains[msg.chain]!;
      tasks.set(msg.task, {
        id: msg.task, chain, partition: msg.partition, operators: new TaskOperators(chain.operators, msg.state && (deserialize(msg.state) as PartitionState), performance.now(), chain.eventTime, { tracked: true, time: taskTime(chain) }),
        failed: false, queue: [], releasing: false, busy: false, writes: new Set(),
      });
      break;
    }
    case 'release': {
      const task = tasks.get(msg.task);
      if (!task || (task.queue.length === 0 && !task.busy)) release(msg.task);
      else {
        task.releasing = true;
        // Its remaining batches go before every other task's (a busy task is not in `ready`: it goes first when its batch ends).
        const at = ready.indexOf(task);
        if (at >= 0) {
          ready.splice(at, 1);
          ready.unshift(task);
        }
      }
      break;
    }
    case 'batch':
    case 'end': {
      const task = tasks.get(msg.task);
      if (!task) break;
      if (task.queue.push(msg) === 1 && !task.busy) ready.push(task);
      schedule();
      break;
    }
  }
}

function release(id: number): void {
  const task = tasks.get(id);
  tasks.delete(id);
  const answer = () => {
    const state = serialize(task?.operators.snapshot() ?? { stores: {} });
    post({ type: 'released', task: id, state }, [state.buffer as ArrayBuffer]);
  };
  if (!task || task.writes.size === 0) answer();
  else void Promise.allSettled([...task.writes]).then(answer);
}

function schedule(): void {
  if (scheduled || ready.length === 0) return;
  scheduled = true;
  setImmediate(turn);
}

/** One batch of the task whose turn it is; tasks take turns so none starves. */
function turn(): void {
  scheduled = false;
  const task = ready.shift();
  if (!task) return;
  const msg = task.queue.shift()!;
  if ((task.chain.lookups || msg.type === 'end') && !task.failed) {
    task.busy = true;
    void (msg.type === 'end' ? runEnd(task, msg) : runLookupBatch(task, msg)).then(() => {
      task.busy = false;
      if (task.queue.length > 0) {
        if (task.releasing) ready.unshift(task);
        else ready.push(task);
      } else if (task.releasing) release(task.id);
      schedule();
    });
  } else if (msg.type === 'batch') {
    runBatch(task, msg);
    if (task.queue.length > 0) ready.push(task);
    else if (task.releasing) release(task.id);
  }
  schedule();
}

function batchInput(chain: Chain, msg: BatchMessage): BatchInput {
  const { valueType, keyType } = chain;
  const keys = keyType && msg.keys && msg.keyEnds ? msg : undefined;
  return {
    count: msg.count,
    values: (from, to) => decodeRecords(valueType, msg.values, msg.valueEnds, to, from),
    bytes: (i) => msg.values.subarray(i === 0 ? 0 : msg.valueEnds[i - 1], msg.valueEnds[i]),
    keys: (from, to) => (keys ? decodeRecords(keyType!, keys.keys!, keys.keyEnds!, to, from) : new Array<unknown>(to - from).fill(null)),
    offsets: msg.offsets,
    timestamps: msg.timestamps,
    chunk: chunkFor(msg.count, msg.values.byteLength),
  };
}

function runBatch(task: Task, msg: BatchMessage): void {
  if (task.failed) return;
  const started = performance.now();
  let result: BatchResult;
  try {
    result = runner.run(task.chain, task.partition, task.operators, batchInput(task.chain, msg));
  } catch (e) {
    failTask(task, msg, e as Error);
    return;
  }
  postResult(task, msg, started, result);
}

async function runLookupBatch(task: Task, msg: BatchMessage): Promise<void> {
  const started = performance.now();
  const clients = lookupClients.get(task.chain)!;
  let result: BatchResult;
  try {
    result = await runner.runWithLookups(task.chain, task.partition, task.operators, batchInput(task.chain, msg), async (i, keys) => {
      try {
        return await clients[i]!.lookup(keys);
      } catch (e) {
        // Named after its operator, like a chain failure.
        throw Object.assign(e as Error, { operator: task.chain.lookups![i]!.id });
      }
    });
  } catch (e) {
    failTask(task, msg, e as Error);
    return;
  }
  postResult(task, msg, started, result);
}

/** The task's input ended: its windows close, and their results are the answer to the end's `seq`. */
async function runEnd(task: Task, msg: EndMessage): Promise<void> {
  const started = performance.now();
  let result: BatchResult;
  try {
    result = await runner.endOfInput(task.chain, task.partition, task.operators, msg.offset, (i, keys) => lookupClients.get(task.chain)![i]!.lookup(keys), msg.quiet === true);
  } catch (e) {
    failTask(task, msg, e as Error);
    return;
  }
  postResult(task, msg, started, result);
}

function failTask(task: Task, msg: BatchMessage | EndMessage, e: Error): void {
  task.failed = true;
  const err = e as Error & { operator?: string; offset?: number };
  post({ type: 'failed', task: msg.task, operator: err.operator, offset: err.offset, message: err.message, stack: err.stack });
}

function postResult(task: Task, msg: BatchMessage | EndMessage, started: number, result: BatchResult): void {
  const now = performance.now();
  const reply: FromWorker = { type: 'result', task: msg.task, seq: msg.seq, busyMs: now - started, ...result };
  const changes = task.operators.takeChanges();
  if (changes) reply.changes = changes;
  // A task that only writes an exchange reports its watermark too (the status shows every partition's event time).
  if (task.operators.keepsTime) {
    const watermark = task.operators.currentWatermark;
    reply.stateInfo = { entries: task.operators.entries(), watermark: Number.isFinite(watermark) ? watermark : null };
  }
  const writes = writeOwnSinks(task, msg, result);
  if (writes) reply.writing = true;
  // Decoding copied every string and byte array out of the batch buffer, so it can go back (unless the worker's own sinks still read its keys).
  else if (msg.type === 'batch') reply.recycle = msg.offsets.buffer as ArrayBuffer;
  post(reply, [...transferList([...result.outputs, result.deadLetters]), ...(reply.recycle ? [reply.recycle] : [])]);
}

/** Hands the outputs of the worker's own sinks to them (taking them out of the result) and reports `written` when all are accepted. */
function writeOwnSinks(task: Task, msg: BatchMessage | EndMessage, result: BatchResult): boolean {
  if (workerSinks.size === 0) return false;
  const started = performance.now();
  const writes: Promise<void>[] = [];
  const counts = result.outputs.map(() => 0);
  let from: SourceRecords | undefined;
  result.outputs.forEach((out, i) => {
    const sink = workerSinks.get(task.chain.sinks[i]!);
    if (!sink) return;
    result.outputs[i] = null;
    if (!out) return;
    from ??= sourceRecords(msg);
    counts[i] = out.count;
    writes.push(sink.write({ source: task.chain.source, partition: task.partition, ...out }, from));
  });
  if (writes.length === 0) return false;
  const all = Promise.all(writes).then(
    () => post({ type: 'written', task: msg.task, seq: msg.seq, counts, latencyMs: performance.now() - started }),
    (e: Error) => post({ type: 'failed', task: msg.task, message: e.message, stack: e.stack }),
  );
  writing.add(all);
  task.writes.add(all);
  void all.finally(() => (writing.delete(all), task.writes.delete(all)));
  return true;
}

function sourceRecords(msg: BatchMessage | EndMessage): SourceRecords {
  // Results at the end of the input derive from no record of their own.
  if (msg.type === 'end') return { offsets: [msg.offset], timestamps: [Date.now()] };
  const from: SourceRecords = { offsets: msg.offsets, timestamps: msg.timestamps, ...(msg.headers ? { headers: msg.headers } : {}) };
  const ends = msg.rawKeyEnds;
  if (ends && msg.rawKeys) {
    const keys = new Array<Uint8Array | null>(msg.count);
    for (let i = 0, pos = 0; i < msg.count; i++) {
      const end = ends[i]!;
      if (end < 0) keys[i] = null;
      else {
        keys[i] = msg.rawKeys.subarray(pos, end);
        pos = end;
      }
    }
    from.rawKeys = keys;
  }
  return from;
}
