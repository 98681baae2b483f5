/**
 * What a failed Redis command says, for the sink and the lookup. An error
 * reply starts with a code (`WRONGTYPE`, `BUSY`, `ERR` …); most codes other
 * than `ERR` name a condition of the server that passes (a script running,
 * the dataset loading, a failover, memory full under `noeviction`), and
 * the command succeeds when sent again later. Only the rest concern the
 * command itself, hence its record.
 */
import { ReplyError } from 'ioredis';

/**
 * `record`: Redis refused this command for its data (a dead letter);
 * `transient`: the server cannot take commands now, or the connection broke (wait and resend);
 * `fatal`: no command of this client can succeed (credentials, permissions, a cluster node redirecting
 *   its keys elsewhere, a server without the command): the run stops instead of dead-lettering every record.
 */
export type RedisErrorKind = 'record' | 'transient' | 'fatal';

const TRANSIENT = new Set(['BUSY', 'LOADING', 'READONLY', 'MISCONF', 'TRYAGAIN', 'CLUSTERDOWN', 'MASTERDOWN', 'NOREPLICAS', 'OOM']);
const FATAL = new Set(['NOAUTH', 'WRONGPASS', 'NOPERM', 'MOVED', 'ASK']);

export function classifyRedisError(error: Error): RedisErrorKind {
  // Not a reply: the socket closed or the command got no answer.
  if (!(error instanceof ReplyError)) return 'transient';
  const code = /^\S+/.exec(error.message)?.[0] ?? '';
  if (TRANSIENT.has(code)) return 'transient';
  if (FATAL.has(code) || error.message.startsWith('ERR unknown command')) return 'fatal';
  return 'record';
}
