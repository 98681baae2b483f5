/**
 * A TEST DOUBLE of the Confluent Schema Registry: a small HTTP server that
 * implements the part of its REST API that Sensei and
 * `@kafkajs/confluent-schema-registry` use, with Confluent's documented
 * behaviour and error codes. No Confluent-compatible registry can be
 * installed on the test machines (it is not in npm, Debian or Maven
 * Central's reach as a runnable server), so the Kafka tests run against
 * this. Production uses a real registry: Confluent Schema Registry,
 * Karapace, Redpanda's, or Apicurio's ccompat API.
 *
 * Implemented: POST /subjects/{s}/versions (register), POST /subjects/{s}
 * (lookup), GET /subjects, GET /subjects/{s}/versions,
 * GET /subjects/{s}/versions/{v|latest}, GET /schemas/ids/{id},
 * POST /compatibility/subjects/{s}/versions/{v|latest} (?verbose=true),
 * GET/PUT /config and /config/{s} (?defaultToGlobal=true). Avro only.
 * Compatibility (BACKWARD by default, every Confluent level) is decided by
 * Avro schema resolution (connectors/kafka/compatibility.ts, on avsc).
 * Error codes: 40401 subject not found, 40402 version not found, 40403
 * schema not found, 40408 no subject-level config, 409 incompatible schema,
 * 42201 invalid schema, 42202 invalid version, 42203 invalid compatibility
 * level, 404 unknown route, 50001 internal error.
 *
 * Run it by hand with `npx tsx test/support/schema-registry.ts [port]`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { avroType } from '../../src/formats/avro-codec.ts';
import { COMPATIBILITY_LEVELS, compatibilityProblems, type CompatibilityLevel } from '../../connectors/kafka/compatibility.ts';

export interface SchemaRegistryDouble {
  url: string;
  /** Requests served, as `METHOD path` (for tests that check what a client asked). */
  readonly requests: string[];
  close(): Promise<void>;
}

class RegistryFailure extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }

  get status(): number {
    return this.code >= 10000 ? Math.floor(this.code / 100) : this.code;
  }
}

interface Stored {
  id: number;
  text: string;
  json: unknown;
}

interface Subject {
  /** Schema ids by version (version = index + 1). */
  versions: number[];
}

class Registry {
  private readonly schemas: Stored[] = [];
  private readonly subjects = new Map<string, Subject>();
  private globalLevel: CompatibilityLevel = 'BACKWARD';
  private readonly levels = new Map<string, CompatibilityLevel>();

  handle(method: string, path: string, query: URLSearchParams, body: unknown): unknown {
    const parts = path.split('/').filter((p) => p !== '').map(decodeURIComponent);
    const [, second, third, fourth, fifth] = parts;
    const is = (m: string, shape: string) => method === m && parts.length === shape.split('/').length && shape.split('/').every((s, i) => s === '*' || s === parts[i]);
    if (is('GET', 'subjects')) return [...this.subjects.keys()];
    if (is('GET', 'subjects/*/versions')) return this.subject(second!).versions.map((_, i) => i + 1);
    if (is('POST', 'subjects/*/versions')) return { id: this.register(second!, body) };
    if (is('GET', 'subjects/*/versions/*')) {
      const subject = this.subject(second!);
      const version = this.version(subject, fourth!);
      const stored = this.schemas[subject.versions[version - 1]! - 1]!;
      return { subject: second, version, id: stored.id, schema: stored.text };
    }
    if (is('POST', 'subjects/*')) return this.lookup(second!, body);
    if (is('GET', 'schemas/ids/*')) return { schema: this.byId(third!).text };
    if (is('POST', 'compatibility/subjects/*/versions/*')) {
      const subject = this.subject(third!);
      const version = this.version(subject, fifth!);
      const candidate = parseSchema(body);
      const history = fifth === 'latest' ? subject.versions.map((id) => this.schemas[id - 1]!.json) : [this.schemas[subject.versions[version - 1]! - 1]!.json];
      const problems = compatibilityProblems(this.levels.get(third!) ?? this.globalLevel, candidate.json, history);
      return query.get('verbose') === 'true' ? { is_compatible: problems.length === 0, messages: problems } : { is_compatible: problems.length === 0 };
    }
    if (is('GET', 'config')) return { compatibilityLevel: this.globalLevel };
    if (is('PUT', 'config')) return { compatibility: (this.globalLevel = level(body)) };
    if (is('GET', 'config/*')) {
      const subjectLevel = this.levels.get(second!);
      if (subjectLevel) return { compatibilityLevel: subjectLevel };
      if (query.get('defaultToGlobal') === 'true') return { compatibilityLevel: this.globalLevel };
      throw new RegistryFailure(40408, `Subject '${second}' does not have subject-level compatibility configured`);
    }
    if (is('PUT', 'config/*')) {
      const l = level(body);
      this.levels.set(second!, l);
      return { compatibility: l };
    }
    throw new RegistryFailure(404, `HTTP 404 Not Found: ${method} ${path}`);
  }

  private subject(name: string): Subject {
    const s = this.subjects.get(name);
    if (!s || s.versions.length === 0) throw new RegistryFailure(40401, `Subject '${name}' not found.`);
    return s;
  }

  private version(subject: Subject, text: string): number {
    if (text === 'latest' || text === '-1') return subject.versions.length;
    const v = Number(text);
    if (!Number.isInteger(v) || v < 1 || v > 2 ** 31 - 1) {
      throw new RegistryFailure(42202, `The specified version '${text}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`);
    }
    if (v > subject.versions.length) throw new RegistryFailure(40402, `Version ${v} not found.`);
    return v;
  }

  private byId(text: string): Stored {
    const stored = this.schemas[Number(text) - 1];
    if (!stored) throw new RegistryFailure(40403, `Schema ${text} not found`);
    return stored;
  }

  private register(name: string, body: unknown): number {
    const candidate = parseSchema(body);
    const subject = this.subjects.get(name) ?? { versions: [] };
    const existing = subject.versions.find((id) => this.schemas[id - 1]!.text === candidate.text);
    if (existing !== undefined) return existing;
    const lvl = this.levels.get(name) ?? this.globalLevel;
    const problems = compatibilityProblems(lvl, candidate.json, subject.versions.map((id) => this.schemas[id - 1]!.json));
    if (problems.length > 0) {
      throw new RegistryFailure(409, `Schema being registered is incompatible with an earlier schema for subject "${name}", details: [${problems.join('; ')}]`);
    }
    // The same schema text has one id across subjects, as in Confluent's registry.
    let stored = this.schemas.find((s) => s.text === candidate.text);
    if (!stored) {
      stored = { id: this.schemas.length + 1, text: candidate.text, json: candidate.json };
      this.schemas.push(stored);
    }
    subject.versions.push(stored.id);
    this.subjects.set(name, subject);
    return stored.id;
  }

  private lookup(name: string, body: unknown): unknown {
    const subject = this.subject(name);
    const candidate = parseSchema(body);
    const index = subject.versions.findIndex((id) => this.schemas[id - 1]!.text === candidate.text);
    if (index < 0) throw new RegistryFailure(40403, 'Schema not found');
    return { subject: name, version: index + 1, id: subject.versions[index], schema: candidate.text };
  }
}

function level(body: unknown): CompatibilityLevel {
  const value = String((body as { compatibility?: unknown } | undefined)?.compatibility ?? '').toUpperCase();
  if (!(COMPATIBILITY_LEVELS as readonly string[]).includes(value)) {
    throw new RegistryFailure(42203, `Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive`);
  }
  return value as CompatibilityLevel;
}

function parseSchema(body: unknown): { text: string; json: unknown } {
  const b = (body ?? {}) as { schema?: unknown; schemaType?: unknown };
  if (b.schemaType !== undefined && b.schemaType !== 'AVRO') {
    throw new RegistryFailure(42201, `Invalid schema: schema type ${String(b.schemaType)} is not supported by this test double (Avro only)`);
  }
  if (typeof b.schema !== 'string') throw new RegistryFailure(42201, 'Invalid schema: the request has no "schema" string');
  let json: unknown;
  try {
    json = JSON.parse(b.schema);
    avroType(json);
  } catch (e) {
    throw new RegistryFailure(42201, `Invalid schema ${b.schema}: ${(e as Error).message}`);
  }
  return { text: JSON.stringify(json), json };
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text === '' ? undefined : JSON.parse(text);
}

/** Starts the double on 127.0.0.1 (`port` 0 = any free port). */
export async function startSchemaRegistry(port = 0): Promise<SchemaRegistryDouble> {
  const registry = new Registry();
  const requests: string[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://registry');
    requests.push(`${req.method} ${url.pathname}`);
    const reply = (status: number, payload: unknown) => {
      res.writeHead(status, { 'content-type': 'application/vnd.schemaregistry.v1+json' });
      res.end(JSON.stringify(payload));
    };
    readBody(req)
      .then((body) => reply(200, registry.handle(req.method ?? 'GET', url.pathname, url.searchParams, body)))
      .catch((e: unknown) => {
        if (e instanceof RegistryFailure) reply(e.status, { error_code: e.code, message: e.message });
        else if (e instanceof SyntaxError) reply(422, { error_code: 42201, message: `Invalid schema: unparseable request body: ${e.message}` });
        else reply(500, { error_code: 50001, message: `Error in the backend data store: ${(e as Error).message}` });
      });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const registry = await startSchemaRegistry(Number(process.argv[2] ?? 8081));
  process.stdout.write(`schema registry test double at ${registry.url}\n`);
}
