/**
 * Deterministic, realistic-looking values for any Avro record schema.
 * Record i is a pure function of (seed, i): every partition can generate its
 * records independently, in any order, and the same seed gives the same data.
 * Field names steer the values (`id`, `*_id`, `email`, `country`, `amount`…).
 */
import { branchName, type RecordNode, type SchemaNode } from '../../src/formats/schema.ts';
import { decimalOf } from '../../src/plan/decimal.ts';

/** 2024-05-01T00:00:00Z: generated timestamps start here, one second apart per record. */
export const BASE_TIME = Date.UTC(2024, 4, 1);

/** mulberry32: small, fast, good enough for test data. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed | 0;
  }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
}

/** A 32-bit hash of the seed, the record index and a stream number (murmur3's finalizer). */
export function mix(seed: number, index: number, stream: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ (index % 4294967296);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) ^ Math.floor(index / 4294967296) ^ Math.imul(stream, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

type Gen = (r: Rng, i: number) => unknown;

const FIRST = ['Ada', 'Alan', 'Grace', 'Linus', 'Barbara', 'Ken', 'Margaret', 'Dennis', 'Frances', 'Edsger', 'Hedy', 'Tim'];
const LAST = ['Lovelace', 'Turing', 'Hopper', 'Torvalds', 'Liskov', 'Thompson', 'Hamilton', 'Ritchie', 'Allen', 'Dijkstra', 'Lamarr', 'Berners-Lee'];
const COUNTRIES = ['DE', 'FR', 'NL', 'US', 'GB', 'JP', 'BR', 'IN', 'ES', 'IT'];
const CITIES = ['Berlin', 'Paris', 'Amsterdam', 'New York', 'London', 'Tokyo', 'São Paulo', 'Mumbai', 'Madrid', 'Milan'];
const CURRENCIES = ['EUR', 'USD', 'GBP', 'JPY'];
const STATUSES = ['PAID', 'PENDING', 'FAILED', 'REFUNDED'];
const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet'];
const MAP_KEYS = ['channel', 'source', 'campaign', 'region', 'device'];
const MAP_WORDS: Record<string, string[]> = {
  channel: ['web', 'app', 'store', 'phone'],
  source: ['ads', 'newsletter', 'search', 'direct'],
  device: ['desktop', 'mobile', 'tablet'],
};

export interface RecordGenerator {
  /** The key field's value of record i, computed without the rest of the record. */
  key(i: number): unknown;
  record(i: number): Record<string, unknown>;
  /** Record timestamp (epoch ms) of record i. */
  timestamp(i: number): number;
}

export function recordGenerator(schema: RecordNode, seed: number, keyField?: string): RecordGenerator {
  const keyIndex = keyField === undefined ? -1 : schema.fields.findIndex((f) => f.name === keyField);
  if (keyField !== undefined && keyIndex < 0) throw new Error(`datagen: key field ${keyField} is not in record ${schema.name}`);
  const gens = schema.fields.map((f) => generator(f.type, f.name.toLowerCase(), schema.name));
  const keyGen = keyIndex >= 0 ? gens[keyIndex]! : undefined;
  const key = (i: number) => (keyGen ? keyGen(new Rng(mix(seed, i, 1)), i) : null);
  return {
    key,
    timestamp: (i) => BASE_TIME + i * 1000,
    record(i) {
      const r = new Rng(mix(seed, i, 0));
      const out: Record<string, unknown> = {};
      for (let f = 0; f < gens.length; f++) out[schema.fields[f]!.name] = f === keyIndex ? key(i) : gens[f]!(r, i);
      return out;
    },
  };
}

function generator(node: SchemaNode, name: string, recordName: string): Gen {
  switch (node.kind) {
    case 'null':
      return () => null;
    case 'boolean':
      return (r) => r.next() < 0.5;
    case 'int':
      if (/quantity|qty|count/.test(name)) return (r) => r.int(1, 10);
      if (/age/.test(name)) return (r) => r.int(18, 90);
      return (r) => r.int(0, 1000);
    case 'long':
      return (r) => r.int(0, 1_000_000);
    case 'float':
    case 'double':
      if (/price|amount|total|cost/.test(name)) return (r) => Math.round(r.int(50, 50_000)) / 100;
      return (r) => Math.round(r.next() * 1_000_000) / 1000;
    case 'decimal': {
      // Amounts up to 1000 (or what the precision allows, at most 15 digits), a few of them zero.
      const max = Math.min((10 ** (node.precision - node.scale) - 1) * 10 ** node.scale, 1000 * 10 ** node.scale, 999_999_999_999_999);
      const unit = 10 ** node.scale;
      const value = node.scale <= 22 ? (u: number) => u / unit : (u: number) => decimalOf(BigInt(u), node.scale);
      return (r) => (r.next() < 0.03 ? 0 : value(r.int(1, max)));
    }
    case 'string':
      return stringGenerator(name, recordName);
    case 'uuid':
      return (r) => {
        const hex = Array.from({ length: 16 }, () => r.int(0, 255).toString(16).padStart(2, '0')).join('');
        return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${((parseInt(hex[16]!, 16) & 3) | 8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
      };
    case 'bytes':
      return (r) => Buffer.from(Array.from({ length: 8 }, () => r.int(0, 255)));
    case 'fixed':
      return (r) => Buffer.from(Array.from({ length: node.size }, () => r.int(0, 255)));
    case 'enum': {
      // Earlier symbols are more common: weight 1/(k+1).
      const weights = node.symbols.map((_, k) => 1 / (k + 1));
      const total = weights.reduce((a, b) => a + b, 0);
      return (r) => {
        let x = r.next() * total;
        for (let k = 0; k < weights.length; k++) if ((x -= weights[k]!) < 0) return node.symbols[k];
        return node.symbols[node.symbols.length - 1];
      };
    }
    case 'date':
      return (r) => Math.floor(BASE_TIME / 86_400_000) - r.int(0, 3650);
    case 'time-millis':
      return (r) => r.int(0, 86_399_999);
    case 'time-micros':
      return (r) => r.int(0, 86_399_999) * 1000;
    case 'timestamp-millis':
      return (r, i) => BASE_TIME + i * 1000 + r.int(0, 999);
    case 'timestamp-micros':
      return (r, i) => (BASE_TIME + i * 1000) * 1000 + r.int(0, 999_999);
    case 'array': {
      const item = generator(node.items, singular(name), recordName);
      const min = node.items.kind === 'record' ? 1 : 0;
      return (r, i) => Array.from({ length: r.int(min, 3) }, () => item(r, i));
    }
    case 'map': {
      const values = new Map(MAP_KEYS.map((k) => [k, generator(node.values, k, recordName)]));
      return (r, i) => {
        const out: Record<string, unknown> = {};
        const n = r.int(0, 3);
        const start = r.int(0, MAP_KEYS.length - 1);
        for (let k = 0; k < n; k++) {
          const key = MAP_KEYS[(start + k) % MAP_KEYS.length]!;
          out[key] = values.get(key)!(r, i);
        }
        return out;
      };
    }
    case 'record': {
      const fields = node.fields.map((f) => ({ name: f.name, gen: generator(f.type, f.name.toLowerCase(), node.name) }));
      return (r, i) => {
        const out: Record<string, unknown> = {};
        for (const f of fields) out[f.name] = f.gen(r, i);
        return out;
      };
    }
    case 'union': {
      const others = node.branches.filter((b) => b.kind !== 'null');
      const nullable = others.length < node.branches.length;
      const gens = others.map((b) => generator(b, name, recordName));
      const names = others.map(branchName);
      return (r, i) => {
        if (nullable && (others.length === 0 || r.next() < 0.15)) return null;
        const k = r.int(0, gens.length - 1);
        const value = gens[k]!(r, i);
        return node.wrapped ? { [names[k]!]: value } : value;
      };
    }
  }
}

function stringGenerator(name: string, recordName: string): Gen {
  if (name === 'id') {
    // Unique per record, with a few repeats of recent ids (upstream duplicates, for `dedupe`).
    const prefix = recordName.toLowerCase().slice(0, 3);
    return (r, i) => `${prefix}-${String(r.next() < 0.02 && i > 10 ? i - r.int(1, 10) : i).padStart(6, '0')}`;
  }
  if (name.endsWith('_id')) {
    const stem = name.slice(0, -3).slice(0, 4);
    return (r) => `${stem}-${String(r.int(1, 100)).padStart(4, '0')}`;
  }
  if (name.includes('email')) return (r) => `${r.pick(FIRST).toLowerCase()}.${r.pick(LAST).toLowerCase()}${r.int(1, 99)}@example.com`;
  if (name === 'first_name') return (r) => r.pick(FIRST);
  if (name === 'last_name') return (r) => r.pick(LAST);
  if (name.includes('name')) return (r) => `${r.pick(FIRST)} ${r.pick(LAST)}`;
  if (name.includes('country')) return (r) => r.pick(COUNTRIES);
  if (name.includes('city')) return (r) => r.pick(CITIES);
  if (name.includes('currency')) return (r) => r.pick(CURRENCIES);
  if (name.includes('status')) return (r) => r.pick(STATUSES);
  if (name.includes('sku')) return (r) => `SKU-${String(r.int(1, 500)).padStart(4, '0')}`;
  if (name.includes('zip') || name.includes('postal')) return (r) => String(r.int(10000, 99999));
  if (name.includes('street') || name.includes('address')) return (r) => `${r.int(1, 200)} ${r.pick(LAST)} Street`;
  if (name.includes('phone')) return (r) => `+49 30 ${r.int(1_000_000, 9_999_999)}`;
  if (name.includes('url')) return (r) => `https://example.com/${r.pick(WORDS)}/${r.int(1, 999)}`;
  const words = MAP_WORDS[name];
  if (words) return (r) => r.pick(words);
  return (r) => `${r.pick(WORDS)}-${r.int(1, 999)}`;
}

function singular(name: string): string {
  return name.endsWith('s') ? name.slice(0, -1) : name;
}

