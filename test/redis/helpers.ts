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


/**
 * A redis-server of the test's own, which it can stop (saving its data, as
 * `SHUTDOWN SAVE` does) and start again on the same port with that data.
 */
export async function ownRedis(): Promise<{ url: string; stop(): Promise<void>; start(): Promise<void>; destroy(): Promise<void> }> {
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
