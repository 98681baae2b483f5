/**
 * Sinks onto a byte stream (stdout, stderr). A write is acknowledged once the
 * stream has taken the bytes. With `order: partition` records are held until
 * the end and written sorted by source and partition, so the output is the
 * same for any number of workers.
 */
import type { Writable } from 'node:stream';
import type { Connector, EncodedBatch, SinkFormat, SinkWriter } from '../../src/spi/connector.ts';
import type { ConnectorSpec } from '../../src/spi/spec.ts';
import { OptionReader } from '../options.ts';
import { stdoutSpec } from './spec.ts';

/** A connector writing to `output` (a function, so the stream is only touched when used). */
export function streamSinkConnector(spec: ConnectorSpec, output: () => Writable): Connector {
  return {
    spec,
    runtime: {
      async openSink(ctx) {
        const options = new OptionReader(spec, ctx.options);
        const ordered = spec.options.some((o) => o.name === 'order') && options.oneOf('order', ['arrival', 'partition'] as const) === 'partition';
        return new StreamSink(output(), options.oneOf('format', ['json', 'text'] as const), ordered);
      },
    },
  };
}

export function stdoutConnector(output: () => Writable = () => process.stdout): Connector {
  return streamSinkConnector(stdoutSpec, output);
}

class StreamSink implements SinkWriter {
  private readonly held: EncodedBatch[] = [];

  constructor(
    private readonly out: Writable,
    readonly format: SinkFormat,
    private readonly ordered: boolean,
  ) {}

  write(batch: EncodedBatch): Promise<void> {
    if (this.ordered) {
      this.held.push(batch);
      return Promise.resolve();
    }
    return this.put(batch.data);
  }

  private put(data: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => this.out.write(data, (e) => (e ? reject(e) : resolve())));
  }

  async close(): Promise<void> {
    if (!this.ordered) return;
    // Stable sort: within a partition, batches stay in offset order.
    this.held.sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : a.partition - b.partition));
    for (const batch of this.held.splice(0)) await this.put(batch.data);
  }
}
