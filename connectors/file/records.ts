/**
 * A file's records in file order, read from a byte stream a chunk at a time:
 * JSON lines (offset = line number) or an Avro container file (offset =
 * record number), both counted from 1 so that an offset names the same
 * record in every run over the same file, and in a file that has only grown.
 * Nothing is read ahead of what the consumer asks for beyond the stream's
 * own buffer.
 */
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import avro from 'avsc';
import { avroType } from '../../src/formats/avro-codec.ts';
import type { AvroSchemaJson } from '../../src/plan/plan.ts';
import type { SourceContext } from '../../src/spi/connector.ts';

export interface FileRecord {
  offset: number;
  value: unknown;
}

const NEWLINE = 0x0a;

/**
 * The records of the lines of each chunk; blank lines are skipped, and a
 * line that does not parse goes to the dead-letter target (offset and
 * reason name `path:line`), written before the chunk's records are handed on.
 */
export async function* jsonLineRecords(file: Readable, path: string, parse: (line: string) => unknown, ctx: SourceContext): AsyncGenerator<FileRecord[]> {
  let lineNo = 0;
  let tail: Buffer | undefined;
  const rejected: Promise<void>[] = [];
  const take = (text: string, out: FileRecord[]) => {
    lineNo++;
    const line = text.trim();
    if (line === '') return;
    try {
      out.push({ offset: lineNo, value: parse(line) });
    } catch (e) {
      rejected.push(ctx.reject({ partition: -1, offset: lineNo, operator: `source:${ctx.name}`, reason: `${path}:${lineNo}: ${(e as Error).message}`, key: null, value: line }));
    }
  };
  for await (const chunk of file as AsyncIterable<Buffer>) {
    // A newline byte never occurs inside a multi-byte UTF-8 character, so lines split on bytes decode whole.
    const buf = tail ? Buffer.concat([tail, chunk]) : chunk;
    const out: FileRecord[] = [];
    let start = 0;
    for (let nl = buf.indexOf(NEWLINE); nl >= 0; nl = buf.indexOf(NEWLINE, start)) {
      take(buf.toString('utf8', start, nl), out);
      start = nl + 1;
    }
    tail = start < buf.length ? buf.subarray(start) : undefined;
    await Promise.all(rejected.splice(0));
    yield out;
  }
  if (tail) {
    const out: FileRecord[] = [];
    take(tail.toString('utf8'), out);
    await Promise.all(rejected.splice(0));
    yield out;
  }
}

/** The records of an Avro container file, decoded a block at a time (avsc's streaming decoder) into the source schema. */
export async function* avroRecords(file: Readable, schema: AvroSchemaJson): AsyncGenerator<FileRecord[]> {
  const decoder = new avro.streams.BlockDecoder({ readerSchema: avroType(schema), parseHook: (s: unknown) => avroType(s) } as never);
  // Errors of either stream reach the decoder, and so the loop below.
  pipeline(file, decoder, () => {});
  let n = 0;
  for await (const value of decoder) yield [{ offset: ++n, value }];
}
