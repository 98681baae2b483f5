/**
 * The admin API's control endpoints stop and start pipelines. Reachable
 * beyond loopback without a token, anyone who reaches the port could stop
 * them, so `sensei-run` refuses to start in that configuration and says
 * which of the three fixes to choose.
 */
import { BlockList, isIPv6 } from 'node:net';
import type { ConfigProblem } from './config.ts';
import type { DaemonConfig } from './settings.ts';

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** 127.0.0.0/8, ::1 (also IPv4-mapped) and `localhost`; any other name may resolve beyond this machine. */
export function isLoopback(host: string): boolean {
  const address = host.replace(/^\[(.*)\]$/, '$1');
  return address.toLowerCase() === 'localhost' || LOOPBACK.check(address, isIPv6(address) ? 'ipv6' : 'ipv4');
}

/** The problem with an admin API whose control endpoints anyone on the network could use; none when it is guarded. */
export function exposedControl(admin: DaemonConfig['admin'], token: string | undefined): ConfigProblem | undefined {
  if (!admin.control || token || isLoopback(admin.host)) return undefined;
  return {
    key: 'admin.control',
    message:
      `pipeline control (admin.control, SENSEI_ADMIN_CONTROL) is on and the admin API binds ${admin.host} (admin.host, SENSEI_ADMIN_HOST), ` +
      'beyond loopback, without a token (SENSEI_ADMIN_TOKEN): anyone reaching the port could stop pipelines. Not starting; ' +
      'set SENSEI_ADMIN_TOKEN (or SENSEI_ADMIN_TOKEN_FILE, or a file SENSEI_ADMIN_TOKEN in secrets.dir), ' +
      'or bind admin.host to 127.0.0.1, or turn control off (admin.control: false, SENSEI_ADMIN_CONTROL=false)',
  };
}
