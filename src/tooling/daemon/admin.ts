/**
 * The admin HTTP server: probes, Prometheus metrics, status, and pipeline
 * control. It binds to 127.0.0.1 unless configured otherwise; the control
 * endpoints can be turned off or guarded by a bearer token
 * (`SENSEI_ADMIN_TOKEN`), since a pod address is reachable cluster-wide.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AdminHandlers {
  ready(): { ready: boolean; reasons: string[] };
  metrics(): Promise<{ contentType: string; body: string }>;
  status(): unknown;
  control(name: string, action: 'stop' | 'start'): Promise<'ok' | 'unknown'>;
  /** Applied to every JSON response (secrets out). */
  scrub(text: string): string;
}

export interface AdminOptions {
  host: string;
  port: number;
  control: boolean;
  token: string | undefined;
}

export class AdminServer {
  private readonly server: Server;

  constructor(
    private readonly options: AdminOptions,
    private readonly handlers: AdminHandlers,
    private readonly onError: (error: Error, path: string) => void,
  ) {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e: Error) => {
        this.onError(e, req.url ?? '');
        if (!res.headersSent) this.json(res, 500, { error: e.message });
        else res.end();
      });
    });
  }

  /** Resolves with the bound address (the port is the real one when 0 was asked for). */
  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://admin').pathname;
    const control = /^\/pipelines\/([^/]+)\/(stop|start)$/.exec(path);
    if (control) {
      if (req.method !== 'POST') return this.json(res, 405, { error: 'use POST' }, { allow: 'POST' });
      if (!this.options.control) return this.json(res, 403, { error: 'pipeline control is turned off (admin.control: false)' });
      if (!this.authorized(req)) return this.json(res, 401, { error: 'missing or wrong bearer token' }, { 'www-authenticate': 'Bearer' });
      const name = decodeURIComponent(control[1]!);
      const outcome = await this.handlers.control(name, control[2] as 'stop' | 'start');
      if (outcome === 'unknown') return this.json(res, 404, { error: `no pipeline named ${name}` });
      return this.json(res, 200, { pipeline: name, action: control[2] });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return this.json(res, 405, { error: 'use GET' }, { allow: 'GET, HEAD' });
    switch (path) {
      case '/healthz':
        return this.json(res, 200, { status: 'ok' });
      case '/readyz': {
        const r = this.handlers.ready();
        return this.json(res, r.ready ? 200 : 503, r);
      }
      case '/metrics': {
        const m = await this.handlers.metrics();
        res.writeHead(200, { 'content-type': m.contentType });
        res.end(this.handlers.scrub(m.body));
        return;
      }
      case '/status':
        return this.json(res, 200, this.handlers.status());
      default:
        return this.json(res, 404, { error: `no such endpoint: ${path}`, endpoints: ['/healthz', '/readyz', '/metrics', '/status', 'POST /pipelines/NAME/stop', 'POST /pipelines/NAME/start'] });
    }
  }

  private authorized(req: IncomingMessage): boolean {
    const token = this.options.token;
    if (!token) return true;
    const given = Buffer.from(/^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '');
    const wanted = Buffer.from(token);
    return given.length === wanted.length && timingSafeEqual(given, wanted);
  }

  private json(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = this.handlers.scrub(JSON.stringify(body, (_k, v: unknown) => (v === Infinity ? 'Infinity' : v), 2));
    res.writeHead(code, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
    res.end(text + '\n');
  }
}
