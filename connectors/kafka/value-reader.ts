/**
 * Kafka message values → records of the source schema (the reader schema
 * declared in the pipeline).
 *
 * Avro: each value names its writer schema by id (Confluent wire format).
 * When the writer schema is the reader schema, the Avro payload is passed
 * on as it is, unchecked: the worker that decodes it dead-letters it when it
 * does not decode (runtime/worker/batch.ts), so the source's thread, which serves
 * every worker, never decodes it. Otherwise it is decoded here by Avro
 * schema resolution (fields added or removed, promoted types, defaults) and
 * re-encoded in the reader schema; a value that does not decode becomes a
 * dead letter. JSON: one JSON document per value.
 */
import type avro from 'avsc';
import { avroType } from '../../src/formats/avro-codec.ts';
import { recordNode } from '../../src/formats/schema.ts';
import type { AvroSchemaJson } from '../../src/plan/plan.ts';
import { lineParser } from '../lines.ts';
import { RegistryError, type RegistryClient } from './registry-client.ts';
import { frameId, HEADER_BYTES } from './wire-format.ts';

export type ReadValue = { bytes: Uint8Array } | { value: unknown } | { error: string };

export interface ValueReader {
  /** Fetches what decoding these values needs (writer schemas); rejects only when the registry cannot be asked. */
  prepare(values: readonly (Buffer | null)[]): Promise<void>;
  read(value: Buffer | null): ReadValue;
}

type Writer = { same: true } | { same: false; resolver: avro.Resolver; writer: avro.Type } | { error: string };

export class AvroValueReader implements ValueReader {
  private readonly reader: avro.Type;
  private readonly readerText: string;
  private readonly writers = new Map<number, Writer>();

  constructor(
    private readonly registry: RegistryClient,
    schema: AvroSchemaJson,
  ) {
    this.reader = avroType(schema);
    this.readerText = JSON.stringify(schema);
  }

  async prepare(values: readonly (Buffer | null)[]): Promise<void> {
    const missing = new Set<number>();
    for (const v of values) {
      if (!v) continue;
      const id = frameId(v);
      if (typeof id === 'number' && !this.writers.has(id)) missing.add(id);
    }
    await Promise.all([...missing].map(async (id) => this.writers.set(id, await this.writer(id))));
  }

  private async writer(id: number): Promise<Writer> {
    let schema: AvroSchemaJson;
    try {
      schema = await this.registry.schemaById(id);
    } catch (e) {
      if (e instanceof RegistryError && e.status === 404) return { error: `unknown schema id ${id}: the registry has no such schema` };
      throw e;
    }
    if (JSON.stringify(schema) === this.readerText) return { same: true };
    try {
      const writer = avroType(schema);
      return { same: false, writer, resolver: this.reader.createResolver(writer) };
    } catch (e) {
      return { error: `schema id ${id} cannot be read as the source schema: ${(e as Error).message}` };
    }
  }

  read(value: Buffer | null): ReadValue {
    if (value === null) return { error: 'the value is null (a tombstone)' };
    const id = frameId(value);
    if (typeof id !== 'number') return id;
    const writer = this.writers.get(id);
    if (!writer) throw new Error(`schema id ${id} was not prepared`);
    if ('error' in writer) return writer;
    try {
      if (writer.same) return { bytes: value.subarray(HEADER_BYTES) };
      const { value: resolved, offset } = this.reader.decode(value, HEADER_BYTES, writer.resolver);
      if (offset !== value.length) return { error: undecodable(id, offset, value.length) };
      return { bytes: this.reader.toBuffer(resolved) };
    } catch (e) {
      return { error: `undecodable Avro (schema id ${id}): ${(e as Error).message}` };
    }
  }
}

function undecodable(id: number, offset: number, length: number): string {
  return offset < 0
    ? `undecodable Avro (schema id ${id}): the value ends early`
    : `undecodable Avro (schema id ${id}): ${length - offset} bytes left over after the record`;
}

/** An exchange's records (`PlanExchange`): Avro of the plan's schema as it is, no registry (the workers decode them). */
export class ExchangeValueReader implements ValueReader {
  async prepare(): Promise<void> {}

  read(value: Buffer | null): ReadValue {
    return value === null ? { error: 'the value is null (a tombstone)' } : { bytes: value };
  }
}

export class JsonValueReader implements ValueReader {
  private readonly parse: (line: string) => Record<string, unknown>;

  constructor(schema: AvroSchemaJson) {
    this.parse = lineParser(recordNode(schema), 'json');
  }

  async prepare(): Promise<void> {}

  read(value: Buffer | null): ReadValue {
    if (value === null) return { error: 'the value is null (a tombstone)' };
    try {
      return { value: this.parse(value.toString('utf8')) };
    } catch (e) {
      return { error: `not a JSON record of the source schema: ${(e as Error).message}` };
    }
  }
}
