/**
 * A Kafka broker of a test's own (single-node KRaft, a temp dir, free
 * ports), for tests that stop and restart the broker while the shared one of
 * `scripts/services` serves other tests. It runs the jars `scripts/services`
 * resolved from Maven Central into `.cache/kafka/<version>/libs`.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import kafkajs from 'kafkajs';
import { freePort } from './free-port.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');

export interface OwnKafka {
  /** `host:port` of the broker. */
  brokers: string;
  /** Stops the broker: `SIGTERM` is a controlled shutdown, `SIGKILL` a crash. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** Stops it and deletes its files. */
  destroy(): Promise<void>;
}


export async function startOwnKafka(): Promise<OwnKafka> {
  const version = process.env.SENSEI_KAFKA_VERSION ?? '4.4.0';
  const libs = join(ROOT, '.cache/kafka', version, 'libs');
  if (!existsSync(libs)) throw new Error(`no Kafka ${version} jars in ${libs}: run \`scripts/services start kafka\` first`);
  const dir = mkdtempSync(join(tmpdir(), 'sensei-kafka-'));
  const [port, controllerPort] = [await freePort(), await freePort()];
  const brokers = `127.0.0.1:${port}`;
  const properties = join(dir, 'server.properties');
  writeFileSync(properties, [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://${brokers},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://${brokers}`,
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    `log.dirs=${join(dir, 'data')}`,
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    'num.network.threads=1',
    'num.io.threads=2',
    '',
  ].join('\n'));
  writeFileSync(join(dir, 'log4j2.properties'), `status = warn\nappender.file.type = File\nappender.file.name = file\nappender.file.fileName = ${join(dir, 'server.log')}\nappender.file.layout.type = PatternLayout\nappender.file.layout.pattern = [%d] %p %m (%c)%n\nrootLogger.level = WARN\nrootLogger.appenderRef.file.ref = file\n`);
  const jvm = ['-Xms128m', '-Xmx384m', '-XX:+UseSerialGC', '-Djava.awt.headless=true', `-Dlog4j2.configurationFile=${join(dir, 'log4j2.properties')}`, '-cp', `${libs}/*`];
  const { stdout } = await run('java', [...jvm, 'kafka.tools.StorageTool', 'random-uuid']);
  await run('java', [...jvm, 'kafka.tools.StorageTool', 'format', '-t', stdout.trim().split('\n').at(-1)!, '-c', properties]);

  let broker: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const start = async (): Promise<void> => {
    const child = spawn('java', [...jvm, 'kafka.Kafka', properties], { stdio: 'ignore' });
    broker = child;
    exited = new Promise((done) => child.once('exit', () => done()));
    const admin = new kafkajs.Kafka({ brokers: [brokers], logLevel: kafkajs.logLevel.NOTHING, retry: { retries: 0 } }).admin();
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the test's Kafka broker exited during startup (log: ${join(dir, 'server.log')})`);
      try {
        await admin.connect();
        await admin.listTopics();
        await admin.disconnect();
        return;
      } catch {
        await admin.disconnect().catch(() => {});
        if (Date.now() > deadline) throw new Error(`the test's Kafka broker did not answer on ${brokers} within 60 s`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  };
  const stop = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> => {
    if (broker?.exitCode === null) broker.kill(signal);
    await exited;
  };
  await start();
  return {
    brokers,
    stop,
    start,
    destroy: async () => {
      await stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
