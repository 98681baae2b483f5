/**
 * The fault matrix: scenarios of (source → sink pair × delivery mode ×
 * fault), each run against real servers and real `sensei run` processes, and
 * counted afterwards by independent readers. `test/faults/matrix.test.ts`
 * runs a few at small sizes; `npm run faults` (bench/faults.ts) runs them all.
 *
 * A scenario: keyed input records with per-key sequence numbers (a Kafka
 * topic fed while it runs, or a file), the pipeline `select { key, seq, n } |
 * key by key` into the sink, the fault at random points, then (Kafka source)
 * the running processes catch up, stop with SIGTERM and a final bounded run
 * reads whatever is left; a file source's last run runs to completion. Then
 * the sink is read back: lost, duplicated, out of order.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Rng } from '../../connectors/datagen/generate.ts';
import { audit, events, waitFor } from '../kafka/processes.ts';
import { unique as uniqueName } from '../postgres/helpers.ts';
import { startOwnServer } from '../postgres/own-server.ts';
import { ownRedis } from '../redis/helpers.ts';
import { startOwnKafka } from '../support/own-kafka.ts';
import { pgUrl } from '../support/services.ts';
import { FileInput, KafkaInput, kafkaSink, postgresSink, redisSink, type Input, type Sink } from './endpoints.ts';
import { FAULTS, trace, type Fault, type FaultContext, type OwnServers } from './inject.ts';
import { runProblems, Runs, type RunRecord } from './runs.ts';
import { OutputWatch } from './watch.ts';

export type { Fault } from './inject.ts';
export type Pair = 'kafka-kafka' | 'kafka-postgres' | 'kafka-redis' | 'file-postgres';
export type Mode = 'at-least-once' | 'exactly-once';

export interface Scenario {
  pair: Pair;
  mode: Mode;
  fault: Fault;
}

export interface Size {
  records: number;
  keys: number;
  partitions: number;
  /** Records a second: fed to a Kafka source; what the table of a file source's PostgreSQL sink accepts. */
  rate: number;
  /** How long a stopped server stays down (or Redis busy). */
  outageMs: number;
}

/** For the tests: a few thousand records, short outages. */
export const SMALL: Size = { records: 3000, keys: 30, partitions: 6, rate: 250, outageMs: 3000 };
/** For `npm run faults`. */
export const LARGE: Size = { records: 30_000, keys: 300, partitions: 12, rate: 1500, outageMs: 8000 };

export const PAIRS: Record<Pair, string> = {
  'kafka-kafka': 'Kafka → Kafka',
  'kafka-postgres': 'Kafka → PostgreSQL',
  'kafka-redis': 'Kafka → Redis',
  'file-postgres': 'file → PostgreSQL',
};

/** Redis offers only idempotent writes keyed by record (SET): at-least-once, a resent record overwriting itself. */
export function modeLabel(s: Scenario): string {
  return s.pair === 'kafka-redis' ? 'at-least-once (idempotent SET)' : s.mode;
}

export function faultLabel(fault: Fault): string {
  return FAULTS[fault].label;
}

export function scenarioName(s: Scenario): string {
  return `${faultLabel(s.fault)}, ${PAIRS[s.pair]}, ${modeLabel(s)}`;
}

/** Every scenario: the modes each sink offers, the faults that touch each pair. */
export function matrix(): Scenario[] {
  const out: Scenario[] = [];
  for (const fault of Object.keys(FAULTS) as Fault[]) {
    for (const pair of Object.keys(PAIRS) as Pair[]) {
      const [source, sink] = pair.split('-') as [string, string];
      const touches = fault === 'kill' || fault === 'worker-crash' ||
        ((fault === 'broker' || fault === 'join-leave') && source === 'kafka') ||
        (fault === 'postgres' && sink === 'postgres') ||
        ((fault === 'redis-busy' || fault === 'redis-restart') && sink === 'redis');
      if (!touches) continue;
      for (const mode of sink === 'redis' ? ['at-least-once' as const] : ['at-least-once' as const, 'exactly-once' as const]) out.push({ pair, mode, fault });
    }
  }
  return out;
}

/** Longest wait for anything in a scenario; a longer one fails it. */
/** The most one scenario may take: past it, whatever it waits for fails with what every run said. */
const SCENARIO_MS = 300_000;

export interface Outcome {
  scenario: Scenario;
  records: number;
  /** Input records the sink does not hold. */
  lost: number;
  /** Records held more than once (beyond the first); undefined when the sink overwrites (Redis). */
  duplicated: number | undefined;
  /** Keys whose records first appear out of sequence; undefined when the sink has no order (PostgreSQL, Redis). */
  outOfOrderKeys: number | undefined;
  /** Time to recover after each occurrence of the fault, ms. */
  recoveryMs: number[];
  runs: RunRecord[];
  /** What is wrong with how runs ended (see `runProblems`); empty when every run ended as it should. */
  problems: string[];
  durationMs: number;
}

/** Runs one scenario; `seed` picks the fault points. Throws, saying why, when the scenario cannot complete. */
export async function runScenario(scenario: Scenario, size: Size, seed = Date.now()): Promise<Outcome> {
  const started = performance.now();
  const { pair, mode, fault } = scenario;
  const [sourceKind, sinkKind] = pair.split('-') as ['kafka' | 'file', 'kafka' | 'postgres' | 'redis'];
  const exactlyOnce = mode === 'exactly-once';
  const dir = mkdtempSync(join(tmpdir(), 'sensei-faults-'));
  const servers: OwnServers = {};
  const sharedBrokers = process.env.SENSEI_KAFKA_BROKERS;
  const closing: (() => Promise<unknown>)[] = [];
  let runs: Runs | undefined;
  try {
    if (fault === 'broker') {
      servers.kafka = await startOwnKafka();
      closing.push(() => servers.kafka!.destroy());
      // The helpers and the processes read the broker from here.
      process.env.SENSEI_KAFKA_BROKERS = servers.kafka.brokers;
    }
    if (fault === 'postgres') {
      servers.postgres = await startOwnServer();
      closing.push(() => servers.postgres!.destroy());
    }
    if (sinkKind === 'redis') {
      servers.redis = await ownRedis();
      closing.push(() => servers.redis!.destroy());
    }

    const input = events(0, size.records, size.keys);
    let sink: Sink;
    if (sinkKind === 'kafka') sink = await kafkaSink(size.partitions, exactlyOnce);
    else if (sinkKind === 'postgres') sink = await postgresSink(servers.postgres?.url ?? pgUrl(), exactlyOnce, sourceKind === 'file' ? size.rate : undefined);
    else sink = redisSink(servers.redis!);
    closing.unshift(() => sink.close());
    const watch = new OutputWatch(() => sink.count());
    closing.unshift(() => watch.close());
    const source: Input = sourceKind === 'kafka'
      ? await KafkaInput.open(input, size.partitions, size.rate, () => watch.count)
      : new FileInput(dir, input, size.partitions);
    if (source.kind === 'kafka') closing.unshift(() => source.close());

    const name = uniqueName('faults');
    const text = (bounded: boolean) => `pipeline ${name}
schema Event { key: string, seq: long, n: long }
${source.clause(bounded)}
stream out = events | select { key, seq, n } | key by key
${sink.clause}
`;
    const activeRuns = new Runs(dir, text);
    runs = activeRuns;
    const guard = async <T>(wait: Promise<T>): Promise<T> => {
      let timer: NodeJS.Timeout | undefined;
      const left = Math.max(0, started + SCENARIO_MS - performance.now());
      const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`stuck: the scenario did not end within ${SCENARIO_MS / 1000} s`)), left)));
      try {
        return await Promise.race([wait, activeRuns.failure, timeout]);
      } finally {
        clearTimeout(timer);
      }
    };
    // Nothing more will come: the group committed every record, or the file's last run ended.
    const done = () => (source.kind === 'kafka' ? source.committed() : activeRuns.completion());
    const rng = new Rng(seed);
    let point = performance.now();
    const ctx: FaultContext = {
      input: source,
      sink,
      runs: activeRuns,
      servers,
      outageMs: size.outageMs,
      instance: (which) => `${name}-${which}`,
      guard,
      nextPoint: async () => {
        let finished = false;
        const end = done();
        void end.then(() => (finished = true));
        // Records flow (the first run has started, or the previous fault is over); then 5–15 % of the time the input
        // takes at its pace, which does not depend on the machine.
        trace('waiting for records to flow');
        await guard(watch.recovery(point, end));
        await guard(Promise.race([sleep((size.records / size.rate) * 1000 * (0.05 + 0.1 * rng.next())), end]));
        if (finished) throw new Error(`the pipeline finished before the fault could land (${size.records} records are too few)`);
        point = performance.now();
      },
      recovery: (since) => guard(watch.recovery(since, done())),
      baseline: () => guard(watch.fresh()),
    };

    trace(`${scenarioName(scenario)}: servers, sink and input ready`);
    const recoveryMs = await FAULTS[fault].run(ctx);
    trace(`recovered after ${recoveryMs.join(', ')} ms`);
    if (source.kind === 'kafka') {
      // The processes recover by themselves: they catch up with the whole input, then stop cleanly.
      await guard(waitFor('the group to commit every input record', () => source.caughtUp(), SCENARIO_MS));
      trace('the group committed every input record; stopping the runs');
      await guard(activeRuns.stopAll());
      const final = activeRuns.spawn('final bounded run', ctx.instance('a'), true);
      await guard(final.ended);
    } else {
      await guard(activeRuns.completion());
    }
    trace('runs ended; reading the sink back');

    const out = await sink.readBack();
    const counted = audit(input, out);
    return {
      scenario,
      records: input.length,
      lost: counted.missing.length,
      duplicated: sink.overwrites ? undefined : counted.duplicates,
      outOfOrderKeys: sink.ordered ? counted.outOfOrder.length : undefined,
      recoveryMs,
      runs: activeRuns.records,
      problems: runProblems(activeRuns.records),
      durationMs: Math.round(performance.now() - started),
    };
  } catch (e) {
    const runsSaid = [
      ...(runs?.records.map((r) => `${r.name}: exit ${r.exit}${r.killed ? ' (killed)' : ''}\n${r.said}`) ?? []),
      ...(runs?.liveSaid() ?? []),
    ].map((said) => `  ${said.replaceAll('\n', '\n    ')}`).join('\n');
    throw new Error(`${scenarioName(scenario)} (seed ${seed}): ${(e as Error).message}${runsSaid ? `\nruns:\n${runsSaid}` : ''}`, { cause: e });
  } finally {
    // Bounded, so that a client hanging on a stopped server cannot hide the scenario's own error.
    const bounded = (p: Promise<unknown>) => Promise.race([p.catch(() => undefined), sleep(15_000)]);
    await bounded(runs?.abandon() ?? Promise.resolve());
    for (const close of closing) await bounded(close());
    if (sharedBrokers === undefined) delete process.env.SENSEI_KAFKA_BROKERS;
    else process.env.SENSEI_KAFKA_BROKERS = sharedBrokers;
    rmSync(dir, { recursive: true, force: true });
  }
}
