#!/usr/bin/env node
/** The openrs node command: load configuration, start the node, close it gracefully on a signal. */
import { ConfigError, loadConfig, usage } from './config.js';
import { startNode } from './node-runtime.js';
import { createLogger } from './util/logger.js';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${usage()}\n`);
    return;
  }
  let config;
  try {
    config = loadConfig(process.env, argv);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`openrs: invalid configuration: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const log = createLogger(config.log_level);
  let node;
  try {
    node = await startNode(config, log);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const line = err.code === 'EADDRINUSE' ? `port ${config.api_port} on ${config.api_addr} is already in use` : err.message;
    process.stderr.write(`openrs: cannot start: ${line}\n`);
    process.exit(1);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    node.close().then(
      () => process.exit(0),
      (e: unknown) => {
        log.error({ err: e }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

void main();
