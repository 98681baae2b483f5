/**
 * The file connector. As a source it reads the whole file at open (JSON lines
 * or an Avro container file) and spreads the records over partitions by key
 * hash (round robin without a key); lines that do not parse become dead
 * letters (partition -1, offset = line number). As a sink or dead-letter
 * target it writes JSON lines, in call order, through one file handle.
 */
import { once } from 'node:events';
import { mkdir, open, readFile, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import avro from 'avsc';
import { avroType, isNullSchema } from '../../src/formats/avro-codec.ts';
import { recordNode, type RecordNode } from '../../src/formats/schema.ts';
import { ArraySource, type ArrayRecord } from '../array-source.ts';
import type { Connector, EncodedBatch, SinkContext, SinkWriter, SourceContext, SourceReader } from '../../src/spi/connector.ts';
import { lineParser } from '../lines.ts';
import { OptionReader } from '../options.ts';
import { partitionOf } from '../../src/formats/partitioner.ts';
import { fileSpec } from './spec.ts';

export const fileConnector: Connector = {
  spec: fileSpec,
  runtime: { openSource: openFileSource, openSink: openFileSink },
};

async function openFileSource(ctx: SourceContext): Promise<SourceReader> {
  const options = new OptionReader(fileSpec, ctx.options);
  const path = options.string('path');
  const format = options.oneOf('format', ['auto', 'json', 'avro'] as const);
  const schema = recordNode(ctx.schema);
  const timestamp = (await stat(path)).mtimeMs;
  const values = (format === 'avro' || (format === 'auto' && path.endsWith('.avro')))
    ? await readAvroFile(path, ctx.schema)
    : await readJsonLines(path, schema, ctx);
  const partitions = options.number('partitions');
  const keyField = options.optionalString('key');
  const keyNode = keyField === undefined ? undefined : schema.fields.find((f) => f.name === keyField)?.type;
  if (keyField !== undefined && !keyNode) throw new Error(`file ${path}: key field ${keyField} is not in record ${schema.name}`);
  const emitKeys = keyNode !== undefined && !isNullSchema(ctx.keySchema);
  const parts: ArrayRecord[][] = Array.from({ length: partitions }, () => []);
  values.forEach((value, i) => {
    const key = keyField === undefined ? null : (value as Record<string, unknown>)[keyField];
    const p = keyNode ? partitionOf(key, keyNode, partitions) : i % partitions;
    parts[p]!.push({ key: emitKeys ? key : null, value, timestamp });
  });
  return new ArraySource(parts);
}

async function readJsonLines(path: string, schema: RecordNode, ctx: SourceContext): Promise<unknown[]> {
  const parse = lineParser(schema, 'json');
  const out: unknown[] = [];
  const lines = (await readFile(path, 'utf8')).split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.trim();
    if (line === '') continue;
    try {
      out.push(parse(line));
    } catch (e) {
      await ctx.reject({ partition: -1, offset: n + 1, operator: `source:${ctx.name}`, reason: `${path}:${n + 1}: ${(e as Error).message}`, key: null, value: line });
    }
  }
  return out;
}

async function readAvroFile(path: string, schema: unknown): Promise<unknown[]> {
  const out: unknown[] = [];
  const decoder = avro.createFileDecoder(path, { readerSchema: avroType(schema), parseHook: (s: unknown) => avroType(s) } as never);
  decoder.on('data', (v: unknown) => out.push(v));
  await once(decoder, 'end');
  return out;
}

async function openFileSink(ctx: SinkContext): Promise<SinkWriter> {
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
