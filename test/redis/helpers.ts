/**
 * Test support for the Redis connector, against the real server of
 * `scripts/services start redis` (or a test's own `redis-server`): a sink
 * opened with a context that collects dead letters, and batches of JSON
 * lines as the workers encode them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { DeadLetter, EncodedBatch, SinkContext, SinkWriter } from '../../src/spi/connector.ts';
import { openRedisSink } from '../../connectors/redis/sink.ts';
import { jsonLineEncoder } from '../../src/formats/json-codec.ts';
import { schemaNode } from '../../src/formats/schema.ts';
import { freePort } from '../support/free-port.ts';
import { redisUrl } from '../support/services.ts';

export interface TestSink {
  writer: SinkWriter;
  letters: DeadLetter[];
  write(values: unknown[], at?: { partition?: number; from?: number }): Promise<void>;
}

export async function openSink(schema: unknown, options: Record<string, unknown>, signal = new AbortController().signal): Promise<TestSink> {
  const letters: DeadLetter[] = [];
  const ctx: SinkContext & { reject(l: DeadLetter[]): Promise<void> } = {
    pipeline: 'redis_test', id: 'sink:out:0', role: 'sink', options: { url: redisUrl(), ...options } as SinkContext['options'],
    schema, keySchema: 'null', signal, reject: async (l) => void letters.push(...l),
  };
  const writer = await openRedisSink(ctx);
  const line = jsonLineEncoder(schemaNode(schema));
  return {
    writer,
    letters,
    write(values, at = {}) {
      const bytes = values.map((v) => Buffer.from(`${line(v)}\n`));
      const ends = new Uint32Array(bytes.length);
      bytes.reduce((end, b, i) => (ends[i] = end + b.length), 0);
      const batch: EncodedBatch = {
        source: 'in', partition: at.partition ?? 0, count: values.length, data: Buffer.concat(bytes), ends,
        offsets: Float64Array.from(values, (_, i) => (at.from ?? 0) + i),
      };
      return writer.write(batch);
    },
  };
}

export function client(url = redisUrl()): Redis {
  return new Redis(url, { lazyConnect: false });
}

/** Spins for ARGV[1] milliseconds of the server's clock. */
export const BUSY_LOOP = `
local function now() local t = redis.call('TIME') return t[1] * 1000000 + t[2] end
local stop = now() + ARGV[1] * 1000
while now() < stop do end
return 1`;

/**
 * Runs the busy loop on a connection of its own and returns once the server answers BUSY (one reply, to the probe);
 * `ended` settles when the script does. The server must have a `busy-reply-threshold` below `ms`.
 */
export async function busyFor(url: string, ms: number): Promise<{ ended: Promise<unknown> }> {
  const own = client(url);
  const ended = own.eval(BUSY_LOOP, 0, ms).catch(() => undefined).finally(() => own.disconnect());
  const probe = client(url);
  // Its ready check may be answered BUSY already: that is what it waits for, not an error to report.
  probe.on('error', () => {});
  try {
    for (;;) {
      const refused = await probe.get('probe').then(() => false, (e: Error) => /^BUSY/.test(e.message));
      if (refused) return { ended };
    }
  } finally {
    probe.disconnect();
  }
}

export interface OwnRedis {
  url: string;
  /** Shuts the server down, saving its data (`SHUTDOWN SAVE`). */
  stop(): Promise<void>;
  /** Starts it again on the same port with that data. */
  start(): Promise<void>;
  /** Kills it and deletes its files. */
  destroy(): Promise<void>;
}

/**
 * A redis-server of the test's own, which it can stop (saving its data, as
 * `SHUTDOWN SAVE` does) and start again on the same port with that data.
 */
export async function ownRedis(): Promise<OwnRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sensei-redis-test-'));
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    while (!out.includes('Ready to accept connections')) {
      if (child.exitCode !== null) throw new Error(`redis-server exited: ${out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const stop = async () => {
    if (!child || child.exitCode !== null) return;
    const exited = once(child, 'exit');
    const admin = new Redis(port, '127.0.0.1', { retryStrategy: () => null, maxRetriesPerRequest: 0 });
    admin.on('error', () => {});
    // The server closes the connection instead of answering.
    void admin.call('shutdown', 'save').catch(() => {});
    await exited;
    admin.disconnect();
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    stop,
    start,
    destroy: async () => {
      if (child && child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
