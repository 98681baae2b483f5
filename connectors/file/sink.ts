/** The file sink and dead-letter target: JSON lines, written in call order through one file handle. */
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { EncodedBatch, SinkContext, SinkWriter } from '../../src/spi/connector.ts';
import { OptionReader } from '../options.ts';
import { fileSpec } from './spec.ts';

export async function openFileSink(ctx: SinkContext): Promise<SinkWriter> {
  const options = new OptionReader(fileSpec, ctx.options);
  const path = options.string('path');
  await mkdir(dirname(path), { recursive: true });
  return new FileSink(await open(path, options.boolean('append') ? 'a' : 'w'), options.boolean('fsync'));
}

class FileSink implements SinkWriter {
  readonly format = 'json';
  /** Writes run one after another, so records land in call order. */
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly file: FileHandle,
    private readonly fsync: boolean,
  ) {}

  write(batch: EncodedBatch): Promise<void> {
    const next = this.tail.then(async () => {
      await this.file.write(batch.data);
      if (this.fsync) await this.file.datasync();
    });
    this.tail = next;
    return next;
  }

  async close(): Promise<void> {
    await this.tail;
    await this.file.close();
  }
}
