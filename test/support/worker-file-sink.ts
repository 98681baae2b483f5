/**
 * A sink that writes from the workers (`SinkWriter.inWorkers`), as the Kafka
 * sink does under at-least-once, into a JSON-lines file: for tests of what
 * happens to a worker's writes when it crashes. `doom_after: N` makes the
 * first worker that reaches its N-th write leave that write unresolved (a
 * produce request that never lands) and then crash.
 *
 * The module is also its environment's worker module: workers build the
 * same connectors from its `environment` export.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { builtinConnectors } from '../../connectors/registry.ts';
import type { Connector, EncodedBatch } from '../../src/spi/connector.ts';
import { createEnvironment, type MutableEnvironment } from '../../src/spi/environment.ts';

interface Setup {
  path: string;
  doomAfter: number;
  marker: string;
}

export const workerFileConnector: Connector = {
  spec: {
    name: 'worker_file',
    doc: 'test sink written from the workers',
    roles: ['sink'],
    options: [
      { name: 'path', type: 'string', doc: 'output file', required: true },
      { name: 'doom_after', type: 'int', doc: 'the write after which the first worker to reach it crashes (0: never)' },
    ],
  },
  runtime: {
    async openSink(ctx) {
      const path = String(ctx.options.path);
      writeFileSync(path, '');
      const setup: Setup = { path, doomAfter: Number(ctx.options.doom_after ?? 0), marker: `${path}.doomed` };
      return {
        format: 'json',
        inWorkers: { ...setup },
        write: () => Promise.reject(new Error('written from the workers')),
        close: async () => {},
      };
    },
    async openWorkerSink(ctx) {
      const setup = ctx.setup as unknown as Setup;
      let writes = 0;
      return {
        write(batch: EncodedBatch) {
          if (++writes === setup.doomAfter && claim(setup.marker)) {
            // The write never lands; the worker dies a moment later, after its result was posted.
            setTimeout(() => {
              throw new Error('worker crashed with a write in flight');
            }, 20);
            return new Promise<void>(() => {});
          }
          appendFileSync(setup.path, Buffer.from(batch.data.buffer, batch.data.byteOffset, batch.data.byteLength));
          return Promise.resolve();
        },
        close: async () => {},
      };
    },
  },
};

/** True for the first caller across all threads (an exclusive create). */
function claim(marker: string): boolean {
  try {
    writeFileSync(marker, '', { flag: 'wx' });
    return true;
  } catch {
    return false;
  }
}

export function environment(): MutableEnvironment {
  return createEnvironment([...builtinConnectors(), workerFileConnector], import.meta.url);
}
