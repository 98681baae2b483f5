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
  const opts = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
  const start = async () => void (await asPg('pg_ctl', ['-D', data, '-l', join(home, 'server.log'), '-o', opts, '-w', '-t', '60', 'start']));
  const stop = async () => void (await asPg('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '60', 'stop']));
  await start();
  return {
    url: `postgres://sensei@127.0.0.1:${port}/postgres`,
    stop,
    start,
    destroy: async () => {
      await stop().catch(() => {});
      rmSync(home, { recursive: true, force: true });
    },
  };
}
