/**
 * Avro → PostgreSQL types. `createType` is the column type `create: true`
 * gives a field; `columnCodec` decides how a field is written into an
 * existing column (the binary COPY wire format of the column's type) and
 * says why when it cannot be. The table in docs/postgres.md is this file.
 */
import { unwrapNullable, type SchemaNode } from '../../src/formats/schema.ts';

/** Binary wire formats the COPY encoder writes (one per PostgreSQL base type family). */
export type WireType =
  | 'bool' | 'int4' | 'int8' | 'float4' | 'float8' | 'numeric' | 'text' | 'bytea' | 'uuid'
  | 'date' | 'time' | 'timestamp' | 'json' | 'jsonb';

/** How one field is written: its wire type, or an array of one with the element type's OID. */
export type ColumnCodec = { wire: WireType } | { wire: 'array'; element: WireType; elementOid: number };

/** A column as the catalog describes it (see table.ts). */
export interface CatalogColumn {
  name: string;
  /** `format_type()`: `bigint`, `numeric(12,2)`, `text[]`… */
  type: string;
  /** `pg_type.typname` of the column type, or of the element type for arrays. */
  typname: string;
  /** `pg_type.typtype` of that type: `e` for enums. */
  typtype: string;
  isArray: boolean;
  elementOid: number;
  notNull: boolean;
  hasDefault: boolean;
}


/** Column type for scalar kinds; undefined for kinds stored as jsonb. */
function scalarType(node: SchemaNode): string | undefined {
  switch (node.kind) {
    case 'boolean': return 'boolean';
    case 'int': return 'integer';
    case 'long': return 'bigint';
    case 'float': return 'real';
    case 'double': return 'double precision';
    case 'string': case 'enum': return 'text';
    case 'uuid': return 'uuid';
    case 'bytes': case 'fixed': return 'bytea';
    case 'decimal': return `numeric(${node.precision},${node.scale})`;
    case 'date': return 'date';
    case 'time-millis': return 'time(3)';
    case 'time-micros': return 'time(6)';
    case 'timestamp-millis': return 'timestamptz(3)';
    case 'timestamp-micros': return 'timestamptz(6)';
    default: return undefined;
  }
}

/** The column type `create: true` gives a field: scalars map one to one, arrays of scalars to arrays, the rest to jsonb. */
export function createType(node: SchemaNode): { type: string; nullable: boolean } {
  const { node: inner, nullable } = unwrapNullable(node);
  if (inner.kind === 'null') return { type: 'text', nullable: true };
  const scalar = scalarType(inner);
  if (scalar) return { type: scalar, nullable };
  if (inner.kind === 'array') {
    const item = scalarType(unwrapNullable(inner.items).node);
    if (item) return { type: `${item}[]`, nullable };
  }
  return { type: 'jsonb', nullable };
}

/** Wire type of a column's base type by `typname`; enums take text. */
function wireOf(typname: string, typtype: string): WireType | undefined {
  if (typtype === 'e') return 'text';
  switch (typname) {
    case 'bool': return 'bool';
    case 'int4': return 'int4';
    case 'int8': return 'int8';
    case 'float4': return 'float4';
    case 'float8': return 'float8';
    case 'numeric': return 'numeric';
    case 'text': case 'varchar': case 'bpchar': case 'citext': return 'text';
    case 'bytea': return 'bytea';
    case 'uuid': return 'uuid';
    case 'date': return 'date';
    case 'time': return 'time';
    case 'timestamp': case 'timestamptz': return 'timestamp';
    case 'json': return 'json';
    case 'jsonb': return 'jsonb';
    default: return undefined;
  }
}

/** Wire types a field of this (non-null) kind can be written as, besides json/jsonb. */
function accepted(node: SchemaNode): WireType[] {
  switch (node.kind) {
    case 'boolean': return ['bool'];
    case 'int': return ['int4', 'int8'];
    case 'long': return ['int8'];
    case 'float': return ['float4', 'float8'];
    case 'double': return ['float8'];
    case 'string': case 'enum': return ['text'];
    case 'uuid': return ['uuid', 'text'];
    case 'bytes': case 'fixed': return ['bytea'];
    case 'decimal': return ['numeric'];
    case 'date': return ['date'];
    case 'time-millis': case 'time-micros': return ['time'];
    case 'timestamp-millis': case 'timestamp-micros': return ['timestamp'];
    default: return [];
  }
}

/** How a field is written into a column, or a message saying why it cannot be. */
export function columnCodec(node: SchemaNode, column: CatalogColumn): ColumnCodec | { error: string } {
  const { node: inner } = unwrapNullable(node);
  const wire = wireOf(column.typname, column.typtype);
  const mismatch = (): { error: string } => ({ error: `column "${column.name}" has type ${column.type}, which cannot hold ${describe(inner)} (expected ${createType(node).type})` });
  if (!wire) return mismatch();
  if (!column.isArray) {
    // Any value has a JSON form.
    if (wire === 'json' || wire === 'jsonb') return { wire };
    return accepted(inner).includes(wire) ? { wire } : mismatch();
  }
  if (inner.kind !== 'array') return mismatch();
  const item = unwrapNullable(inner.items).node;
  if (wire === 'json' || wire === 'jsonb' || !accepted(item).includes(wire)) return mismatch();
  return { wire: 'array', element: wire, elementOid: column.elementOid };
}

/** A field's type in pipeline terms, for messages. */
export function describe(node: SchemaNode): string {
  switch (node.kind) {
    case 'decimal': return `decimal(${node.precision}, ${node.scale})`;
    case 'array': return `array<${describe(unwrapNullable(node.items).node)}>`;
    case 'map': return `map<${describe(unwrapNullable(node.values).node)}>`;
    case 'record': case 'enum': case 'fixed': return `${node.kind} ${node.name}`;
    case 'union': return node.branches.map(describe).join(' | ');
    default: return node.kind;
  }
}
