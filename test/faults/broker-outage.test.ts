// The Kafka broker stops twice for 10 s under a running `sensei-run` (Kafka → Kafka):
// the outage is waited out and reported, the pipeline resumes by itself with one
// consumer in the group, and an independent reader finds every input record in
// the output (exactly-once: each once). A broker of the test's own, so the
// shared one keeps serving other tests.
import test from 'ava';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { startOwnKafka, type OwnKafka } from '../support/own-kafka.ts';
import { DaemonProcess, eventually, sleep, tempDir } from '../daemon/daemon-process.ts';
import { createTopics, kafka, readTopic, unique } from '../kafka/helpers.ts';

const PARTITIONS = 6;
let broker: OwnKafka;

test.before(async () => {
  broker = await startOwnKafka();
  // Every helper of this file (topics, producer, reader) and the daemons it starts talk to this broker.
  process.env.SENSEI_KAFKA_BROKERS = broker.brokers;
});
test.after.always(async () => broker?.destroy());

/** Produces `{ id }` records round robin while not paused; knows what it produced. */
class Feeder {
  readonly ids: string[] = [];
  paused = false;
  private stopped = false;
  private readonly loop: Promise<void>;

  constructor(topic: string) {
    this.loop = (async () => {
      const producer = kafka().producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      try {
        while (!this.stopped) {
          if (!this.paused) {
            const batch = Array.from({ length: 60 }, (_, i) => `r${this.ids.length + i}`);
            await producer.send({ topic, acks: -1, messages: batch.map((id, i) => ({ partition: i % PARTITIONS, value: JSON.stringify({ id }) })) });
            this.ids.push(...batch);
          }
          await sleep(50);
        }
      } finally {
        await producer.disconnect();
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}

for (const guarantee of ['at_least_once', 'exactly_once'] as const) {
  test.serial(`${guarantee}: two broker outages are waited out; the pipeline resumes by itself and nothing is lost${guarantee === 'exactly_once' ? ' or duplicated' : ''}`, async (t) => {
    t.timeout(240_000);
    const [input, output, group] = [unique('outage-in'), unique('outage-out'), unique('outage')];
    await createTopics([input, PARTITIONS], [output, PARTITIONS]);
    const dir = await tempDir();
    await writeFile(join(dir, 'sensei-run.yaml'), 'workers: { min: 2, max: 2 }\nwatch: { enabled: false }\nshutdown: { deadline: 60s }\n');
    const file = join(dir, 'outage.sensei');
    await writeFile(file, `pipeline outage_${guarantee}
schema Rec { id: string }
source input: Rec from kafka { topic: "${input}", format: json, group: "${group}", commit_interval: 200ms, session_timeout: 10s }
sink input to kafka { topic: "${output}", format: json, guarantee: ${guarantee} }
`);
    // Dynamic membership, so that a consumer left over from a failed run would show as a second member.
    const daemon = new DaemonProcess(['--config', join(dir, 'sensei-run.yaml'), file]);
    const feeder = new Feeder(input);
    try {
      await daemon.ready();
      const notReady: string[] = [];
      for (let outage = 0; outage < 2; outage++) {
        await sleep(3000);
        feeder.paused = true;
        await broker.stop();
        for (const until = Date.now() + 10_000; Date.now() < until; await sleep(500)) {
          const r = await daemon.request('/readyz');
          if (r.status === 503) notReady.push(r.text);
        }
        await broker.start();
        feeder.paused = false;
      }
      t.true(notReady.some((text) => /pipeline outage_\w+ is \w+ \(attempt \d+ after: .+\)/.test(text)), `/readyz said why during the outage: ${notReady.join(' | ')}`);
      await daemon.ready(120_000);
      await sleep(3000);
      await feeder.stop();
      const expected = new Set(feeder.ids);
      const out = await eventually(async () => {
        const read = (await readTopic(output, { readCommitted: true })).map((m) => (JSON.parse(m.value!.toString()) as { id: string }).id);
        const got = new Set(read);
        return [...expected].every((id) => got.has(id)) ? read : undefined;
      }, 120_000, `all ${expected.size} records in ${output}`).catch((e: Error) => {
        throw new Error(`${e.message}; log: ${daemon.stdout.slice(-4000)}`);
      });
      if (guarantee === 'exactly_once') t.is(out.length, expected.size, 'read_committed sees every record once');
      const admin = kafka().admin();
      await admin.connect();
      const [described] = (await admin.describeGroups([group])).groups;
      await admin.disconnect();
      t.is(described!.members.length, 1, 'one consumer in the group');
      daemon.signal('SIGTERM');
      t.is((await daemon.exited).code, 0, daemon.stdout.slice(-2000));
    } finally {
      await feeder.stop();
      await daemon.kill();
    }
  });
}
