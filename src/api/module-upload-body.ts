/**
 * The body of a module upload (POST /v1/modules, /v2/modules): multipart/form-data carrying the
 * package in a field named `module`. openrs cannot install it (services/module-service.ts), so the
 * body is read and thrown away as it arrives, never buffered: only whether a `module` part was
 * there is kept, for the page's `no_module` answer. Registered inside the modules plugin only, so
 * every other route still accepts JSON alone.
 */
import type { FastifyInstance } from 'fastify';
import type { ModuleUpload } from '../services/module-service.js';

/** A part header naming the field `module` (not `filename="module"`, not `name="module2"`). */
const MODULE_PART = /(?:^|[^a-z0-9_-])name="module"/i;
/** Bytes kept from the previous chunk, so a header split across two chunks is still seen. */
const CARRY = 64;

export function acceptModuleUploads(app: FastifyInstance): void {
  app.addContentTypeParser('multipart/form-data', (_req, payload, done) => {
    let tail = '';
    let found = false;
    payload.on('data', (chunk: Buffer) => {
      if (found) return;
      const text = tail + chunk.toString('latin1');
      found = MODULE_PART.test(text);
      tail = text.slice(-CARRY);
    });
    payload.on('error', (e) => done(e, undefined));
    payload.on('end', () => done(null, { multipart: true, hasModulePart: found } satisfies ModuleUpload));
  });
}
