#!/usr/bin/env node
/**
 * The node's proxy process: serves every database endpoint of this node, apart from the manager.
 *
 *   node dist/src/proxy/main.js --socket <control.sock> [--state <endpoints.json>] [--log-level info]
 *
 * The manager spawns it detached (own session and process group, stdio to a log file), so it
 * outlives the manager: restarting or killing the manager drops no client connection. On start
 * it restores the endpoint table from --state, then answers on the control socket.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger } from '../util/logger.js';
import { OPENRS_VERSION } from '../util/product.js';
import { answers, ControlServer } from './control-server.js';
import { EndpointTable } from './endpoint-table.js';

/** Errors of one socket that escaped its handlers: worth a log line, not the whole data plane. */
const SOCKET_ERRNOS = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);

function usageExit(message: string): never {
  process.stderr.write(`openrs-proxy: ${message}\nusage: openrs-proxy --socket <path> [--state <file>] [--log-level <level>]\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: { socket: { type: 'string' }, state: { type: 'string' }, 'log-level': { type: 'string', default: 'info' } },
      strict: true,
    }));
  } catch (e) {
    usageExit((e as Error).message);
  }
  if (!values.socket) usageExit('--socket is required');
  const socketPath = path.resolve(values.socket);
  const stateFile = values.state ? path.resolve(values.state) : undefined;
  const log = createLogger(values['log-level'] ?? 'info').child({ component: 'proxy', pid: process.pid });

  process.on('uncaughtException', (err: NodeJS.ErrnoException) => {
    if (err.code && SOCKET_ERRNOS.has(err.code)) {
      log.error({ err }, 'unhandled socket error (ignored)');
      return;
    }
    // Anything else may have left the process in an unknown state: exit, and let the manager
    // start a new proxy, which restores the endpoints from the state file.
    log.fatal({ err }, 'uncaught exception');
    process.exit(70);
  });
  // Detached, the proxy has no terminal; a stray SIGHUP (e.g. from a shell) must not stop it.
  process.on('SIGHUP', () => log.info('SIGHUP ignored'));

  // Refuse to start next to a live proxy before touching its ports.
  if (await answers(socketPath)) {
    log.error({ socket: socketPath }, 'another proxy is already running');
    process.exit(3);
  }

  const table = new EndpointTable({ stateFile, log });
  await table.restore();
  table.startRetry();

  let stopping = false;
  const stop = (why: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    log.info({ why }, 'proxy stopping');
    table.close();
    control.close();
    process.exit(code);
  };
  const control = new ControlServer({
    socketPath, table, log, version: OPENRS_VERSION,
    onShutdown: () => stop('shutdown requested'),
    onSuperseded: () => stop('another proxy replaced the control socket'),
  });
  try {
    await control.listen();
  } catch (e) {
    log.error({ err: (e as Error).message }, 'cannot listen on the control socket');
    table.close();
    process.exit(3);
  }
  log.info({ socket: socketPath, state: stateFile, version: OPENRS_VERSION }, 'proxy ready');
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

void main();
