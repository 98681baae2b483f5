/**
 * The target table: read its columns from the catalog, create it from the
 * stream's schema (`create: true`), and match every field to a column at
 * start, so a mismatch stops the run before any row is written and names
 * the column. Also the `sensei_offsets` table of exactly-once delivery.
 */
import pg from 'pg';
import { unwrapNullable, type RecordNode } from '../../src/formats/schema.ts';
import type { SourcePosition } from '../../src/spi/connector.ts';
import { columnCodec, createType, describe, type CatalogColumn, type ColumnCodec } from './types.ts';

export interface TableInfo {
  /** Quoted, possibly schema-qualified name, ready for SQL text. */
  sql: string;
  columns: CatalogColumn[];
  primaryKey: string[];
}

/** `orders`, `sales.orders` or `"Mixed Case"."orders"` → a quoted name. */
export function quoteName(name: string): string {
  const parts = name.match(/"(?:[^"]|"")*"|[^.]+/g) ?? [];
  if (parts.length === 0 || parts.length > 2 || parts.join('.') !== name) throw new Error(`postgres: invalid table name ${JSON.stringify(name)}`);
  return parts.map((p) => (p.startsWith('"') ? p : pg.escapeIdentifier(p))).join('.');
}

export const quoteIdent = (name: string): string => pg.escapeIdentifier(name);

/** The table's columns in order, or undefined when it does not exist. */
export async function readTable(client: pg.ClientBase, sql: string): Promise<TableInfo | undefined> {
  const found = await client.query<{ oid: number | null }>('SELECT to_regclass($1)::oid AS oid', [sql]);
  const oid = found.rows[0]?.oid;
  if (!oid) return undefined;
  const { rows } = await client.query<{
    name: string; type: string; typname: string; typtype: string; is_array: boolean; element_oid: number; not_null: boolean; has_default: boolean; pk: boolean;
  }>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
            coalesce(e.typname, t.typname) AS typname, coalesce(e.typtype, t.typtype)::text AS typtype,
            e.oid IS NOT NULL AS is_array, coalesce(e.oid, 0)::int AS element_oid,
            a.attnotnull AS not_null, (a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> '') AS has_default,
            coalesce(a.attnum = ANY (i.indkey), false) AS pk
       FROM pg_attribute a
       JOIN pg_type t ON t.oid = a.atttypid
       LEFT JOIN pg_type e ON e.oid = t.typelem AND t.typcategory = 'A'
       LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary
      WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [oid],
  );
  return {
    sql,
    columns: rows.map((r) => ({
      name: r.name, type: r.type, typname: r.typname, typtype: r.typtype, isArray: r.is_array, elementOid: r.element_oid, notNull: r.not_null, hasDefault: r.has_default,
    })),
    primaryKey: rows.filter((r) => r.pk).map((r) => r.name),
  };
}

/** `CREATE TABLE IF NOT EXISTS` with a column per field (see types.ts) and the key as primary key. */
export function createTableSql(sql: string, schema: RecordNode, key: readonly string[], exclude: ReadonlySet<string>): string {
  const columns = schema.fields
    .filter((f) => !exclude.has(f.name))
    .map((f) => {
      const { type, nullable } = createType(f.type);
      return `${quoteIdent(f.name)} ${type}${nullable && !key.includes(f.name) ? '' : ' NOT NULL'}`;
    });
  if (key.length > 0) columns.push(`PRIMARY KEY (${key.map(quoteIdent).join(', ')})`);
  return `CREATE TABLE IF NOT EXISTS ${sql} (${columns.join(', ')})`;
}

/**
 * How each field of the stream is written, in field order. Throws with the
 * first problem, naming the column: a field without a column, a column
 * whose type cannot hold the field, a NOT NULL column without a default
 * that no field fills.
 */
export function matchColumns(table: TableInfo, schema: RecordNode, options: { deleteField?: string; tableName: string }): ColumnCodec[] {
  const byName = new Map(table.columns.map((c) => [c.name, c]));
  const codecs: ColumnCodec[] = [];
  for (const f of schema.fields) {
    if (f.name === options.deleteField) {
      const inner = unwrapNullable(f.type).node;
      if (inner.kind !== 'boolean') throw new Error(`postgres: delete_field ${f.name} must be a boolean field, but it is ${describe(inner)}`);
      codecs.push({ wire: 'bool' });
      continue;
    }
    const column = byName.get(f.name);
    if (!column) {
      throw new Error(`postgres: table ${options.tableName} has no column "${f.name}" for field ${f.name} (${describe(unwrapNullable(f.type).node)}); add it, or set create: true on a new table`);
    }
    const codec = columnCodec(f.type, column);
    if ('error' in codec) throw new Error(`postgres: table ${options.tableName}: ${codec.error}, for field ${f.name}`);
    codecs.push(codec);
  }
  const fields = new Set(schema.fields.map((f) => f.name));
  const unfilled = table.columns.find((c) => c.notNull && !c.hasDefault && !fields.has(c.name));
  if (unfilled) throw new Error(`postgres: table ${options.tableName}: column "${unfilled.name}" is NOT NULL without a default, and the stream has no field ${unfilled.name}`);
  return codecs;
}

/** Created on first use; one row per pipeline, sink and source partition. */
export function offsetsTableSql(sql: string): string {
  return `CREATE TABLE IF NOT EXISTS ${sql} (
    pipeline text NOT NULL, sink text NOT NULL, source text NOT NULL, partition integer NOT NULL,
    "offset" bigint NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (pipeline, sink, source, partition))`;
}

export async function readOffsets(client: pg.ClientBase, sql: string, pipeline: string, sink: string): Promise<SourcePosition[]> {
  const { rows } = await client.query<{ source: string; partition: number; offset: string }>(
    `SELECT source, partition, "offset" FROM ${sql} WHERE pipeline = $1 AND sink = $2`,
    [pipeline, sink],
  );
  return rows.map((r) => ({ source: r.source, partition: r.partition, offset: Number(r.offset) }));
}

/** Deletes the offsets of a pipeline's sink: its next writes start over. */
export async function forgetOffsets(client: pg.ClientBase, sql: string, pipeline: string, sink: string): Promise<void> {
  await client.query(`DELETE FROM ${sql} WHERE pipeline = $1 AND sink = $2`, [pipeline, sink]);
}

/** The statement that records offsets inside a batch's transaction; never moves an offset back. */
export function saveOffsetsSql(sql: string, pipeline: string, sink: string, rows: readonly SourcePosition[]): string {
  const lit = pg.escapeLiteral;
  const values = rows.map((r) => `(${lit(pipeline)}, ${lit(sink)}, ${lit(r.source)}, ${r.partition}, ${r.offset})`).join(', ');
  return `INSERT INTO ${sql} (pipeline, sink, source, partition, "offset") VALUES ${values}
    ON CONFLICT (pipeline, sink, source, partition) DO UPDATE
    SET "offset" = GREATEST(${sql}."offset", EXCLUDED."offset"), updated_at = now()`;
}
