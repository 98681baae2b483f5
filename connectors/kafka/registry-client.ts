/**
 * The Schema Registry calls Sensei makes, through the REST client of
 * `@kafkajs/confluent-schema-registry` (mappersmith, with its retries and
 * basic auth). Its `SchemaRegistry` class is not used for encoding or
 * decoding: it builds avsc types without Sensei's logical types (decimals)
 * and, on a first registration, also rewrites the subject's compatibility
 * level. Sensei does what Confluent's serializers do instead: register (or
 * look up) the schema, frame Avro binary with the id (wire-format.ts), and
 * fetch writer schemas by id, cached for the life of the client.
 */
import { createRequire } from 'node:module';
import type { AvroSchemaJson } from '../../src/plan/plan.ts';

type CreateApi = typeof import('@kafkajs/confluent-schema-registry/dist/api/index.js').default;
type Api = ReturnType<CreateApi>;

const require = createRequire(import.meta.url);

// A type alias, not an interface: mappersmith's auth type is an index signature.
export type RegistryAuth = { username: string; password: string };

/** Basic auth for the registry from SENSEI_SCHEMA_REGISTRY_USERNAME and _PASSWORD, when both are set. */
export function registryAuthFromEnvironment(): RegistryAuth | undefined {
  const username = process.env.SENSEI_SCHEMA_REGISTRY_USERNAME;
  const password = process.env.SENSEI_SCHEMA_REGISTRY_PASSWORD;
  return username && password ? { username, password } : undefined;
}

/** The registry answered with an error (`status`: the HTTP status), or could not be reached. */
export class RegistryError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
  ) {
    super(message);
  }
}

export interface SubjectVersion {
  id: number;
  version: number;
  schema: AvroSchemaJson;
}

export class RegistryClient {
  private readonly api: Api;
  private readonly byId = new Map<number, Promise<AvroSchemaJson>>();

  constructor(
    readonly url: string,
    auth?: RegistryAuth,
  ) {
    const createApi = (require('@kafkajs/confluent-schema-registry/dist/api/index.js') as { default: CreateApi }).default;
    this.api = createApi({ host: url.replace(/\/+$/, ''), clientId: 'sensei', ...(auth ? { auth } : {}) });
  }

  /** The registry URL and basic auth from the environment (`SENSEI_SCHEMA_REGISTRY_URL`, `_USERNAME`, `_PASSWORD`). */
  static fromEnvironment(url: string | undefined): RegistryClient | undefined {
    const at = url ?? process.env.SENSEI_SCHEMA_REGISTRY_URL;
    return at ? new RegistryClient(at, registryAuthFromEnvironment()) : undefined;
  }

  /** The schema registered under `id`; rejects with a RegistryError of status 404 when there is none. */
  schemaById(id: number): Promise<AvroSchemaJson> {
    let found = this.byId.get(id);
    if (!found) {
      found = this.call(() => this.api.Schema.find({ id })).then((data) => parseSchema(data, `schema ${id}`));
      // A failed lookup is not cached: the registry may be back, or the id registered, next time.
      found.catch(() => this.byId.delete(id));
      this.byId.set(id, found);
    }
    return found;
  }

  /** Registers `schema` under `subject` (a no-op returning the existing id when it is already there). */
  async register(subject: string, schema: AvroSchemaJson): Promise<number> {
    const data = await this.call(() => this.api.Subject.register({ subject, body: { schema: JSON.stringify(schema) } }));
    const id = (data as { id: number }).id;
    this.byId.set(id, Promise.resolve(schema));
    return id;
  }

  /** The id of `schema` under `subject`, or undefined when the subject does not have it. */
  async lookup(subject: string, schema: AvroSchemaJson): Promise<number | undefined> {
    try {
      const data = await this.call(() => this.api.Subject.registered({ subject, body: { schema: JSON.stringify(schema) } }));
      return (data as { id: number }).id;
    } catch (e) {
      if (e instanceof RegistryError && e.status === 404) return undefined;
      throw e;
    }
  }

  /** The latest version of `subject`, or undefined when the subject does not exist. */
  async latest(subject: string): Promise<SubjectVersion | undefined> {
    try {
      const data = (await this.call(() => this.api.Subject.latestVersion({ subject }))) as { id: number; version: number; schema: string };
      return { id: data.id, version: data.version, schema: parseSchema(data, `${subject} latest`) };
    } catch (e) {
      if (e instanceof RegistryError && e.status === 404) return undefined;
      throw e;
    }
  }

  /** The compatibility level that applies to `subject` (its own, else the registry's). */
  async level(subject: string): Promise<string> {
    const data = (await this.call(() => this.api.Subject.config({ subject, defaultToGlobal: 'true' }))) as { compatibilityLevel: string };
    return data.compatibilityLevel;
  }

  /** Whether the registry would accept `schema` as the next version of `subject` (its compatibility level), with its reasons when not. */
  async compatibility(subject: string, schema: AvroSchemaJson): Promise<{ compatible: boolean; messages: string[] }> {
    const data = (await this.call(() =>
      this.api.Subject.compatible({ subject, version: 'latest', verbose: 'true', body: { schema: JSON.stringify(schema) } }),
    )) as { is_compatible: boolean; messages?: unknown[] };
    return { compatible: data.is_compatible, messages: (data.messages ?? []).map(String) };
  }

  private async call(request: () => Promise<{ data(): unknown }>): Promise<unknown> {
    try {
      return (await request()).data();
    } catch (e) {
      const err = e as Error & { status?: number };
      throw new RegistryError(`schema registry ${this.url}: ${err.message.replace(/^sensei - /, '')}`, err.status);
    }
  }
}

function parseSchema(data: unknown, what: string): AvroSchemaJson {
  const text = (data as { schema?: unknown }).schema;
  if (typeof text !== 'string') throw new RegistryError(`schema registry: ${what} has no schema`, undefined);
  return JSON.parse(text) as AvroSchemaJson;
}
