/**
 * A PostgreSQL server of a test's own (initdb + pg_ctl in a temp dir, on a
 * free port), for tests that stop and restart the server: the shared one
 * of `scripts/services` serves other tests at the same time, or that need
 * password authentication (the shared one trusts every local connection).
 * Uses the system's server binaries, as scripts/services does; as root the
 * server runs as the `postgres` user.
 */
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../support/free-port.ts';

const run = promisify(execFile);

function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl'))).sort((a, b) => Number(a) - Number(b)) : [];
  if (versions.length === 0) throw new Error('PostgreSQL server binaries (initdb, pg_ctl) not found: on Debian/Ubuntu run `apt-get install -y postgresql`');
  return join(root, versions.at(-1)!, 'bin');
}


export interface OwnServer {
  /** Without the password, when the server has one. */
  url: string;
  /** Fast shutdown: sessions are terminated, the port closes. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server and deletes its files. */
  destroy(): Promise<void>;
  /** A streaming replica of this server (pg_basebackup, then a hot standby on a port of its own); destroyed with it. */
  replica(): Promise<OwnServer>;
}

/** With `password`, the superuser `sensei` has it and every connection must give it (scram-sha-256). */
export async function startOwnServer(options: { password?: string } = {}): Promise<OwnServer> {
  const bin = binDir();
  const root = userInfo().uid === 0;
  // /var/tmp: reachable for the postgres user, unlike a 0700 temp dir of root's.
  const home = mkdtempSync(join(root ? '/var/tmp' : (process.env.TMPDIR ?? '/tmp'), 'sensei-pg-test-'));
  if (root) {
    const ids = await run('id', ['-u', 'postgres']).then((r) => Number(r.stdout.trim()));
    const gid = await run('id', ['-g', 'postgres']).then((r) => Number(r.stdout.trim()));
    chownSync(home, ids, gid);
    chmodSync(home, 0o700);
  }
  const asPg = (cmd: string, args: string[]) => (root ? run('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args], { cwd: '/' }) : run(join(bin, cmd), args));
  const port = await freePort();
  const data = join(home, 'data');
  let auth = ['-A', 'trust'];
  if (options.password !== undefined) {
    // Read by initdb, which runs as the postgres user when this is root.
    const pwfile = join(home, 'password');
    writeFileSync(pwfile, `${options.password}\n`, { mode: 0o644 });
    auth = ['-A', 'scram-sha-256', `--pwfile=${pwfile}`];
  }
  await asPg('initdb', ['-D', data, '-U', 'sensei', ...auth, '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync']);
  const serve = async (dir: string, at: number): Promise<OwnServer> => {
    const opts = `-p ${at} -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c fsync=off -c synchronous_commit=off`;
    const start = async () => void (await asPg('pg_ctl', ['-D', dir, '-l', `${dir}.log`, '-o', opts, '-w', '-t', '60', 'start']));
    const stop = async () => void (await asPg('pg_ctl', ['-D', dir, '-m', 'fast', '-w', '-t', '60', 'stop']));
    const replicas: OwnServer[] = [];
    await start();
    return {
      url: `postgres://sensei@127.0.0.1:${at}/postgres`,
      stop,
      start,
      destroy: async () => {
        for (const r of replicas) await r.destroy();
        await stop().catch(() => {});
        if (dir === data) rmSync(home, { recursive: true, force: true });
      },
      replica: async () => {
        const copy = join(home, `replica-${replicas.length + 1}`);
        // -R: standby.signal and primary_conninfo, so it starts as a hot standby streaming from this server.
        await asPg('pg_basebackup', ['-D', copy, '-R', '-X', 'stream', '-c', 'fast', '-h', '127.0.0.1', '-p', String(at), '-U', 'sensei']);
        const r = await serve(copy, await freePort());
        replicas.push(r);
        return r;
      },
    };
  };
  return serve(data, port);
}
