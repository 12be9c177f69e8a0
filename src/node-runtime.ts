/**
 * One running openrs node: compose the services, build the app, bootstrap a single-node cluster
 * on an empty data dir when configured to, listen on HTTPS, and close everything in order.
 * main.ts runs it for the CLI; tests run it in-process on port 0 with a temporary data dir.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { AddressInfo } from 'node:net';
import type { Server as HttpsServer } from 'node:https';
import { buildApp } from './app.js';
import { compose, type ComposeOptions, type Composed } from './compose.js';
import type { Config } from './config.js';
import { generatePassword } from './auth/password.js';

export interface RunningNode {
  app: FastifyInstance;
  composed: Composed;
  port: number;
  /** Set when this start created the cluster with a generated password. */
  generatedPassword?: string;
  /**
   * Stop the manager. Databases and their endpoints keep serving (as when RS's cluster manager
   * stops) unless `stopDatabases`, which also stops every shard and the proxy.
   */
  close(opts?: { stopDatabases?: boolean }): Promise<void>;
}

export async function startNode(config: Config, log: Logger, opts: { print?: (line: string) => void } & ComposeOptions = {}): Promise<RunningNode> {
  fs.mkdirSync(config.data_dir, { recursive: true, mode: 0o700 });
  const composed = await compose(config, log, { clock: opts.clock, watchdog: opts.watchdog });
  const app = await buildApp(composed, { logger: log, https: composed.tls.contextOptions() });
  composed.tls.onChange((ctx) => (app.server as unknown as HttpsServer).setSecureContext(ctx));

  let generatedPassword: string | undefined;
  try {
    // Listen first: until the cluster exists every route but bootstrap answers 503, as on a fresh RS
    // node, and bootstrap records the real port (the configured one may be 0).
    await app.listen({ host: config.api_addr, port: config.api_port });
    composed.setListeningPort((app.server.address() as AddressInfo).port);
    await composed.metrics.listen();
    generatedPassword = await autoBootstrap(config, composed, log, opts.print ?? ((l) => process.stdout.write(`${l}\n`)));
    if (composed.services.bootstrap.isBootstrapped()) await composed.startControllers();
  } catch (e) {
    await app.close().catch(() => undefined);
    await composed.metrics.close().catch(() => undefined);
    await composed.stats.stop().catch(() => undefined);
    composed.events.close();
    await composed.kv.close().catch(() => undefined);
    throw e;
  }
  const port = (app.server.address() as AddressInfo).port;
  log.info({ addr: config.api_addr, port }, 'REST API listening (HTTPS)');

  let closing: Promise<void> | undefined;
  return {
    app,
    composed,
    port,
    generatedPassword,
    close(closeOpts = {}) {
      closing ??= (async () => {
        await app.close();
        await composed.services.bootstrap.settled();
        await composed.metrics.close();
        await composed.stats.stop();
        await composed.services.controllers.stop({ stopDatabases: closeOpts.stopDatabases === true });
        composed.events.close();
        await composed.kv.close();
      })();
      return closing;
    },
  };
}

/** On an empty data dir, create a single-node cluster from the configuration (unless disabled). */
async function autoBootstrap(config: Config, c: Composed, log: Logger, print: (line: string) => void): Promise<string | undefined> {
  const b = c.services.bootstrap;
  if (!config.bootstrap || b.isBootstrapped()) return undefined;
  const st = await b.status();
  if (st.state !== 'idle' && st.state !== 'error') return undefined;
  const password = config.admin_password ?? generatePassword();
  await b.start('create_cluster', {
    action: 'create_cluster',
    cluster: { name: config.cluster_name },
    credentials: { username: config.admin_user, password },
  });
  await b.settled();
  const done = await b.status();
  if (done.state !== 'completed') throw new Error(`automatic bootstrap failed: ${done.error_code}: ${done.error_details?.message ?? ''}`);
  log.info({ cluster: config.cluster_name, admin: config.admin_user }, 'created single-node cluster');
  if (config.admin_password !== undefined) return undefined;
  const file = path.join(config.data_dir, 'admin-credentials');
  fs.writeFileSync(file, `username=${config.admin_user}\npassword=${password}\n`, { mode: 0o600 });
  print(`openrs: created cluster '${config.cluster_name}' with admin user '${config.admin_user}' and password '${password}' (saved in ${file})`);
  return password;
}
