/**
 * An at-least-once Kafka sink in one worker thread: the worker's own
 * producer (one per cluster, shared by the worker's Kafka sinks) sends the
 * messages of the batches the worker ran. Records of a partition stay in
 * order: the producer sends one request at a time, in queue order, and a
 * source partition's batches run on one worker at a time (a moving
 * partition's batches drain on the old worker before the new one gets any).
 */
import type { EncodedBatch, SourceRecords, WorkerSinkContext, WorkerSinkWriter } from '../../src/spi/connector.ts';
import { kafkaClient, kafkaOptions } from './client.ts';
import { MessageBuilder, passedThrough, type SinkSetup } from './messages.ts';
import { ProducerChannel } from './producer.ts';
import { clusterKey } from './run.ts';

const channels = new Map<string, { channel: Promise<ProducerChannel>; users: number }>();

export async function openKafkaWorkerSink(ctx: WorkerSinkContext): Promise<WorkerSinkWriter> {
  const setup = ctx.setup as unknown as SinkSetup;
  const cluster = clusterKey(setup.options);
  let shared = channels.get(cluster);
  if (!shared) {
    const created = new ProducerChannel(kafkaClient(setup.options), { maxRequestBytes: kafkaOptions(setup.options).number('batch_bytes') });
    shared = { channel: created.connect().then(() => created), users: 0 };
    channels.set(cluster, shared);
  }
  shared.users++;
  const channel = await shared.channel;
  const builder = new MessageBuilder(setup, ctx.schema, ctx.keySchema);
  let closed = false;
  /** This writer's sends in flight: its close waits for them even when another writer keeps the producer open. */
  const inflight = new Set<Promise<void>>();
  return {
    write(batch: EncodedBatch, from: SourceRecords) {
      const sent = channel.send(setup.topic, builder.messages(batch, passedThrough(batch.offsets, from)), setup.compression);
      inflight.add(sent);
      void sent.finally(() => inflight.delete(sent)).catch(() => {});
      return sent;
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.allSettled([...inflight]);
      if (--shared.users > 0) return;
      channels.delete(cluster);
      await channel.close();
    },
  };
}
