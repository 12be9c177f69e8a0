/**
 * A real OpenLDAP server for tests: slapd in the foreground (`-d 0`) as a child process, with a
 * temporary slapd.conf (mdb backend, core/cosine/inetorgperson schemas, the memberof overlay)
 * and database, on free loopback ports. Optionally also ldaps:// and StartTLS with a self-signed
 * certificate for 127.0.0.1. Entries are loaded over LDAP after start, so the memberof overlay
 * fills in `memberOf` for group members. Tests skip when slapd is not installed
 * (scripts/setup.sh installs it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'ldapts';
import { generateSelfSigned } from '../../src/certs/x509.js';
import { freePort } from './ports.js';
import { waitFor } from './wait-for.js';

export const SLAPD_BIN = '/usr/sbin/slapd';
export const slapdInstalled = fs.existsSync(SLAPD_BIN);

export const SUFFIX = 'dc=example,dc=com';
export const ROOT_DN = `cn=admin,${SUFFIX}`;
export const ROOT_PW = 'slapd-root-secret';

export interface Slapd {
  /** ldap://127.0.0.1:<port> */
  url: string;
  /** ldaps://127.0.0.1:<port>, when started with `tls`. */
  ldapsUrl?: string;
  /** The self-signed server certificate (PEM), when started with `tls`: the CA to trust. */
  caCert?: string;
  stop(): Promise<void>;
}

/** Minimal LDIF reader for test data: `attr: value` lines, records separated by blank lines. */
export function parseLdif(ldif: string): { dn: string; attributes: Record<string, string[]> }[] {
  return ldif
    .split(/\n\s*\n/)
    .map((block) => block.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')))
    .filter((lines) => lines.length > 0)
    .map((lines) => {
      const attributes: Record<string, string[]> = {};
      let dn = '';
      for (const line of lines) {
        const i = line.indexOf(':');
        const [k, v] = [line.slice(0, i).trim(), line.slice(i + 1).trim()];
        if (k.toLowerCase() === 'dn') dn = v;
        else (attributes[k] ??= []).push(v);
      }
      return { dn, attributes };
    });
}

function slapdConf(dir: string, tls?: { cert: string; key: string }): string {
  return [
    'include /etc/ldap/schema/core.schema',
    'include /etc/ldap/schema/cosine.schema',
    'include /etc/ldap/schema/inetorgperson.schema',
    'modulepath /usr/lib/ldap',
    'moduleload back_mdb',
    'moduleload memberof',
    `pidfile ${path.join(dir, 'slapd.pid')}`,
    `argsfile ${path.join(dir, 'slapd.args')}`,
    ...(tls ? [`TLSCertificateFile ${tls.cert}`, `TLSCertificateKeyFile ${tls.key}`] : []),
    'database mdb',
    `suffix "${SUFFIX}"`,
    `rootdn "${ROOT_DN}"`,
    `rootpw ${ROOT_PW}`,
    `directory ${path.join(dir, 'db')}`,
    'maxsize 16777216',
    // Passwords are only for binding; the rest is readable by bound users (like a real directory,
    // anonymous users see nothing).
    'access to attrs=userPassword by self write by anonymous auth by * none',
    'access to * by users read by * none',
    'overlay memberof',
    '',
  ].join('\n');
}

async function rootClient(url: string): Promise<Client> {
  const c = new Client({ url, timeout: 2000, connectTimeout: 2000 });
  await c.bind(ROOT_DN, ROOT_PW);
  return c;
}

export async function startSlapd(opts: { ldif: string; tls?: boolean }): Promise<Slapd> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openrs-slapd-'));
  fs.mkdirSync(path.join(dir, 'db'));
  let tlsFiles: { cert: string; key: string } | undefined;
  let caCert: string | undefined;
  if (opts.tls) {
    const pair = await generateSelfSigned({ commonName: '127.0.0.1', altNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    tlsFiles = { cert: path.join(dir, 'server.crt'), key: path.join(dir, 'server.key') };
    fs.writeFileSync(tlsFiles.cert, pair.certificate);
    fs.writeFileSync(tlsFiles.key, pair.key, { mode: 0o600 });
    caCert = pair.certificate;
  }
  fs.writeFileSync(path.join(dir, 'slapd.conf'), slapdConf(dir, tlsFiles));

  const port = await freePort();
  const url = `ldap://127.0.0.1:${port}`;
  const ldapsUrl = opts.tls ? `ldaps://127.0.0.1:${await freePort()}` : undefined;
  const listen = [url, ldapsUrl].filter(Boolean).map((u) => `${u}/`).join(' ');
  const child: ChildProcess = spawn(SLAPD_BIN, ['-d', '0', '-f', path.join(dir, 'slapd.conf'), '-h', listen], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => { exited = true; resolve(); }));

  const stop = async () => {
    if (!exited) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exit;
      clearTimeout(killer);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };

  try {
    const admin = await waitFor(async () => {
      if (exited) throw new Error(`slapd exited: ${stderr}`);
      return rootClient(url);
    }, { timeoutMs: 15_000, intervalMs: 50, what: `slapd on ${url}` });
    try {
      for (const e of parseLdif(opts.ldif)) await admin.add(e.dn, e.attributes);
    } finally {
      await admin.unbind();
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { url, ldapsUrl, caCert, stop };
}
