/** A minimal HTTPS client for tests: self-signed certificates accepted, raw status/headers/body kept. */
import https from 'node:https';

export interface Resp {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** Parsed JSON body, or undefined when the body is empty or not JSON. */
  json: any;
  /** The body's bytes (binary answers: archives). */
  body: Buffer;
  /** The TLS certificate the server presented. */
  peerCert?: { subject: Record<string, string>; fingerprint256: string; raw: Buffer };
}

export interface ReqOpts {
  body?: unknown;
  /** Sent as-is, instead of JSON-encoding `body`. */
  rawBody?: string;
  auth?: { user: string; pass: string } | null;
  headers?: Record<string, string>;
  tls?: https.RequestOptions;
}

export function request(port: number, method: string, path: string, opts: ReqOpts = {}): Promise<Resp> {
  const headers: Record<string, string> = { ...opts.headers };
  let payload: string | undefined = opts.rawBody;
  if (opts.body !== undefined) {
    payload = JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json';
  }
  if (payload !== undefined) headers['content-length'] = String(Buffer.byteLength(payload));
  if (opts.auth) headers.authorization = `Basic ${Buffer.from(`${opts.auth.user}:${opts.auth.pass}`).toString('base64')}`;
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port, method, path, headers, rejectUnauthorized: false, agent: false, ...opts.tls },
      (res) => {
        // Taken now: with a keep-alive agent the socket is handed back to the pool before 'end'.
        const sock = res.socket as import('node:tls').TLSSocket | null;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          const text = body.toString('utf8');
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          const pc = sock?.getPeerCertificate?.();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json, body, peerCert: pc && (pc as any).raw ? (pc as any) : undefined });
        });
      },
    );
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}
