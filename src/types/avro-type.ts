/**
 * Sensei's model of Avro types: what the type checker reasons about and
 * what every stream's inferred schema is built from. Logical types are
 * kinds of their own because expressions treat them differently
 * (a timestamp is not just a long).
 *
 * Runtime representation (what generated code and connectors hold in memory):
 * null → null; boolean → boolean; int/float/double → number; long → number
 * while a safe integer, bigint beyond (formats/long.ts); string, uuid →
 * string; bytes, fixed → Buffer; enum → its symbol (string); date → days
 * since epoch (number); time-millis/micros → number; timestamp-millis →
 * epoch milliseconds (number); timestamp-micros → epoch microseconds (a
 * long); decimal → number up to 15 significant digits, its canonical text
 * beyond (plan/decimal.ts); array → Array; map → plain object; record →
 * plain object.
 */

export type AvroType =
  | { kind: 'null' }
  | { kind: 'boolean' }
  | { kind: 'int' }
  | { kind: 'long' }
  | { kind: 'float' }
  | { kind: 'double' }
  | { kind: 'bytes' }
  | { kind: 'string' }
  | { kind: 'uuid' }
  | { kind: 'date' }
  | { kind: 'time-millis' }
  | { kind: 'time-micros' }
  | { kind: 'timestamp-millis' }
  | { kind: 'timestamp-micros' }
  | { kind: 'decimal'; precision: number; scale: number }
  | FixedType
  | EnumType
  | ArrayType
  | MapType
  | RecordType
  | UnionType;

export interface FixedType { kind: 'fixed'; name: string; namespace?: string; size: number }
export interface EnumType { kind: 'enum'; name: string; namespace?: string; symbols: string[]; doc?: string; default?: string }
export interface ArrayType { kind: 'array'; items: AvroType }
export interface MapType { kind: 'map'; values: AvroType }
export interface RecordType { kind: 'record'; name: string; namespace?: string; doc?: string; fields: RecordField[] }
/** `default` is in Avro's JSON encoding, as an .avsc file writes it (bytes as a string of code points 0-255). */
export interface RecordField { name: string; type: AvroType; doc?: string; default?: unknown }
/** Nullable T is `{ kind: 'union', branches: [null, T] }`; other unions come only from .avsc files. */
export interface UnionType { kind: 'union'; branches: AvroType[] }

export type AvroKind = AvroType['kind'];
