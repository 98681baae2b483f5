/**
 * The faults of the matrix: each starts the scenario's runs, injects its
 * fault at random points while records flow, and returns the time to
 * recover after each occurrence (from the fault's end to the first output
 * after it, or to completion when nothing was left to write).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { OwnServer } from '../postgres/own-server.ts';
import { busyFor, client, type OwnRedis } from '../redis/helpers.ts';
import type { OwnKafka } from '../support/own-kafka.ts';
import { groupAssignment } from '../kafka/helpers.ts';
import { waitFor } from '../kafka/processes.ts';
import type { Input, Sink } from './endpoints.ts';
import type { Runs } from './runs.ts';

const traceStart = performance.now();

/** With SENSEI_FAULTS_TRACE set, each step of a scenario on stderr, for finding where one hangs. */
export function trace(step: string): void {
  if (process.env.SENSEI_FAULTS_TRACE) process.stderr.write(`[faults +${((performance.now() - traceStart) / 1000).toFixed(1)}s] ${step}\n`);
}

export type Fault = 'kill' | 'broker' | 'postgres' | 'redis-busy' | 'redis-restart' | 'worker-crash' | 'join-leave';

/** Servers a fault stops, of the scenario's own; the others are the shared ones. */
export interface OwnServers {
  /** The broker `SENSEI_KAFKA_BROKERS` names. */
  kafka?: OwnKafka;
  postgres?: OwnServer;
  redis?: OwnRedis;
}

export interface FaultContext {
  readonly input: Input;
  readonly sink: Sink;
  readonly runs: Runs;
  readonly servers: OwnServers;
  /** How long a server stays down (or busy). */
  readonly outageMs: number;
  /** SENSEI_INSTANCE_ID of the scenario's first process (`a`) or a second one (`b`). */
  instance(which: 'a' | 'b'): string;
  /** Waits a random while of the pipeline writing: where the next fault lands. */
  nextPoint(): Promise<void>;
  /** Resolves once the watch has counted everything the sink holds now (before a fault's end is taken). */
  baseline(): Promise<void>;
  /** Time to recover after a fault that ended at `since` (`performance.now()`). */
  recovery(since: number): Promise<number>;
  /** A wait of the scenario, cut short when a run fails. */
  guard<T>(wait: Promise<T>): Promise<T>;
}

export const FAULTS: Record<Fault, { label: string; run(ctx: FaultContext): Promise<number[]> }> = {
  kill: {
    label: 'SIGKILL ×3',
    async run(ctx) {
      let run = ctx.runs.spawn('run 1', ctx.instance('a'));
      const recoveries: number[] = [];
      for (let kill = 1; kill <= 3; kill++) {
        await ctx.nextPoint();
        await run.kill();
        // What the dead process had sent may still land; it must not count as the next one's output.
        await ctx.guard(ctx.sink.settled());
        await ctx.baseline();
        // Restarted under the same instance id: it takes the dead one's partitions and transactional id at once.
        const restarted = performance.now();
        run = ctx.runs.spawn(`run ${kill + 1} (after SIGKILL ${kill})`, ctx.instance('a'));
        recoveries.push(await ctx.recovery(restarted));
      }
      return recoveries;
    },
  },
  broker: {
    label: 'Kafka broker stop/start',
    run(ctx) {
      const { input, servers } = ctx;
      const broker = servers.kafka;
      if (input.kind !== 'kafka' || !broker) throw new Error('the broker fault needs a Kafka source on a broker of its own');
      // No input can be produced meanwhile.
      return stopStart(ctx, {
        stop: async () => {
          input.pause();
          await broker.stop();
        },
        start: async () => {
          await broker.start();
          input.resume();
        },
      });
    },
  },
  postgres: {
    label: 'PostgreSQL stop/start',
    run: (ctx) => stopStart(ctx, ctx.servers.postgres),
  },
  'redis-busy': {
    label: 'Redis BUSY',
    async run(ctx) {
      const server = ctx.servers.redis;
      if (!server) throw new Error('the redis-busy fault needs a server of its own');
      const admin = client(server.url);
      // After 100 ms of a script the server answers every other command BUSY.
      await admin.config('SET', 'busy-reply-threshold', '100').finally(() => admin.disconnect());
      ctx.runs.spawn('run', ctx.instance('a'));
      await ctx.nextPoint();
      const busy = await busyFor(server.url, ctx.outageMs);
      await busy.ended;
      return [await ctx.recovery(performance.now())];
    },
  },
  'redis-restart': {
    label: 'Redis restart',
    run: (ctx) => stopStart(ctx, ctx.servers.redis),
  },
  'worker-crash': {
    label: 'worker thread crash',
    async run(ctx) {
      // sensei-run's admin API cannot kill a worker; the runtime's fault injection can.
      const { current } = ctx.runs.inProcess('in-process run');
      await ctx.nextPoint();
      await current().killWorker(current().workerIds()[0]!);
      return [await ctx.recovery(performance.now())];
    },
  },
  'join-leave': {
    label: 'process joins, leaves',
    async run(ctx) {
      const { input } = ctx;
      if (input.kind !== 'kafka') throw new Error('join-leave needs a Kafka source (a consumer group)');
      ctx.runs.spawn('first process', ctx.instance('a'));
      await ctx.nextPoint();
      const second = ctx.runs.spawn('second process (joins, then leaves)', ctx.instance('b'));
      await ctx.guard(waitFor('the second process to own partitions', async () => {
        const members = await groupAssignment(input.group, input.topic);
        return members.length === 2 && members.every((partitions) => partitions.length > 0);
      }, 120_000));
      const joined = performance.now();
      const atJoin = await input.committedOffsets();
      const recoveries = [await ctx.recovery(joined)];
      // Both processes carry records before one leaves: every partition commits past where it stood at the join.
      await ctx.guard(waitFor('every partition to commit past the join', () => input.movedOn(atJoin), 120_000));
      await ctx.nextPoint();
      await second.stop();
      recoveries.push(await ctx.recovery(performance.now()));
      return recoveries;
    },
  },
};

/** One run; at a random point the server stops, stays down `outageMs` and starts again. */
async function stopStart(ctx: FaultContext, server: { stop(): Promise<void>; start(): Promise<void> } | undefined): Promise<number[]> {
  if (!server) throw new Error('the fault needs a server of the scenario\'s own');
  ctx.runs.spawn('run', ctx.instance('a'));
  await ctx.nextPoint();
  trace('stopping the server');
  await server.stop();
  await sleep(ctx.outageMs);
  trace('starting the server');
  await server.start();
  trace('server started; waiting for the output to flow again');
  return [await ctx.recovery(performance.now())];
}
