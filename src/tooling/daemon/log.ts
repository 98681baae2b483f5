/**
 * Structured JSON logs (pino) on stdout, one line per event. Every lifecycle
 * change carries an `event` name (start, compiled, pipeline-start, assignment,
 * rebalance, scale, error, shutdown, ...) and the pipeline and partition it
 * concerns, so a log pipeline can filter on them. Each line passes through
 * the secret scrubber last, whatever put the secret there.
 */
import { destination as pinoDestination, pino, stdTimeFunctions, type DestinationStream, type Logger } from 'pino';
import type { Scrubber } from './secrets.ts';
import type { DaemonConfig } from './settings.ts';

export type { Logger };

export function createLogger(level: DaemonConfig['log']['level'] | 'silent', instance: string, scrubber: Scrubber, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { instance },
    timestamp: stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    hooks: { streamWrite: (line: string) => scrubber.scrub(line) },
  };
  // Synchronous: lifecycle events are few, and none may be lost when the process exits right after one.
  return pino(options, destination ?? pinoDestination({ dest: 1, sync: true }));
}
