// Which Redis error replies are about the record (a dead letter), about the server (wait and resend), or stop the run.
import test from 'ava';
import { ReplyError } from 'ioredis';
import { classifyRedisError, type RedisErrorKind } from '../../connectors/redis/reply.ts';

const REPLIES: [RedisErrorKind, string, string[]][] = [
  ['transient', 'conditions of the server are transient: busy, loading, read-only, failing over, out of memory', [
    'BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.',
    'LOADING Redis is loading the dataset in memory',
    "READONLY You can't write against a read only replica.",
    'MISCONF Redis is configured to save RDB snapshots, but it is currently not able to persist on disk.',
    'TRYAGAIN Multiple keys request during rehashing of slot',
    'CLUSTERDOWN The cluster is down',
    "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
    'NOREPLICAS Not enough good replicas to write.',
    "OOM command not allowed when used memory > 'maxmemory'.",
  ]],
  ['record', "replies about the command and its data are the record's", [
    'WRONGTYPE Operation against a key holding the wrong kind of value',
    'ERR string exceeds maximum allowed size (proto-max-bulk-len)',
    'ERR value is not an integer or out of range',
    "ERR invalid expire time in 'set' command",
    'ERR Error running script (call to f_0b2f): @user_script:1: user_script:1: attempt to compare nil with number',
    'BUSYKEY Target key name already exists.',
  ]],
  ['fatal', 'replies no command of this client could overcome stop the run', [
    'NOAUTH Authentication required.',
    'WRONGPASS invalid username-password pair or user is disabled.',
    "NOPERM this user has no permissions to run the 'set' command",
    'MOVED 3999 127.0.0.1:6381',
    "ERR unknown command 'XADD', with args beginning with: ",
  ]],
];

for (const [kind, title, replies] of REPLIES) {
  test(title, (t) => {
    for (const reply of replies) t.is(classifyRedisError(new ReplyError(reply)), kind, reply);
  });
}

test('a broken connection is transient', (t) => {
  t.is(classifyRedisError(new Error('Connection is closed.')), 'transient');
  t.is(classifyRedisError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', syscall: 'read' })), 'transient');
});
