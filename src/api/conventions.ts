/**
 * The REST conventions of rest-api/_index.md, implemented once for every route:
 * x-api-version (505), the pre-bootstrap gate (503), Basic authentication (401 + WWW-Authenticate),
 * permissions (403), JSON-only bodies (400), RS error bodies, 404 / 405 + Allow, and `fields=`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RsError } from '../errors.js';
import { roleAllows } from '../auth/permissions.js';
import { parseToken } from '../auth/authenticate.js';
import { bdbScopeRuleFor, bdbUidOf, filterByScope, OutOfScope, type BdbScope } from '../auth/bdb-scope.js';
import { ANY_MANAGEMENT_ROLE, type Caller } from './route-types.js';

export interface ConventionDeps {
  /** True once this node is part of a cluster. */
  isBootstrapped(): boolean;
  /** Resolve credentials from the request, or throw RsError('unauthorized'). */
  authenticate(req: FastifyRequest): Promise<Caller>;
  /** False when the policy turns authentication off for the master healthcheck. */
  healthcheckNeedsAuth(): Promise<boolean>;
  /** Check a username and password (as Basic would), for `access: 'login'` bodies; 401 if wrong. */
  verifyCredentials?(login: string, password: string, req: FastifyRequest): Promise<Caller>;
  /** The databases a caller's role is limited to (role.md `resources`), undefined = all. */
  bdbScope?(caller: Caller): Promise<BdbScope | undefined>;
}

/** One registered route as declared (HEAD twins included), for tests and tooling. */
export interface DeclaredRoute {
  method: string;
  url: string;
  config: import('fastify').FastifyContextConfig;
}

const declared = new WeakMap<FastifyInstance, DeclaredRoute[]>();

/** Every route registered on `app` since registerConventions, with its permission config. */
export function declaredRoutes(app: FastifyInstance): readonly DeclaredRoute[] {
  return declared.get(app) ?? [];
}

/** `x-api-version` values we answer: 1 or 2, optionally with a leading v and minor parts. */
const API_VERSION = /^v?[12](\.[0-9]+)*$/i;

export function registerConventions(app: FastifyInstance, deps: ConventionDeps): void {
  const routes: { methods: string[]; pattern: RegExp }[] = [];
  const table: DeclaredRoute[] = [];
  declared.set(app, table);

  app.addHook('onRoute', (opts) => {
    const methods = ([] as string[]).concat(opts.method);
    // Every route states its permission so that nothing is reachable by accident (HEAD twins are
    // added by Fastify from their GET route and inherit its config).
    if (!opts.config?.permission && opts.config?.access !== 'bootstrap') {
      throw new Error(`route ${methods.join(',')} ${opts.url} declares no permission`);
    }
    const escape = (x: string) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const segs = opts.url.split('/');
    const source = segs
      .map((seg, i) => {
        if (!seg.startsWith(':')) return escape(seg);
        const verbs = i === segs.length - 1 ? opts.config?.verbs : undefined;
        return verbs ? `(?:${verbs.map(escape).join('|')})` : '[^/]+';
      })
      .join('/');
    routes.push({ methods, pattern: new RegExp(`^${source}/?$`) });
    if (opts.config && opts.config.bdbScope === undefined) {
      // A copy: plugins often share one config object between several routes.
      const rule = bdbScopeRuleFor(methods[0]!, opts.url);
      if (rule) opts.config = { ...opts.config, bdbScope: rule };
    }
    for (const method of methods) table.push({ method, url: opts.url, config: opts.config ?? {} });
  });

  // JSON only. An empty body is "no body" (clients often send Content-Type on body-less POSTs);
  // any other media type is rejected by Fastify and mapped to 400 below.
  const defaultJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if (body === '' || (typeof body === 'string' && body.trim() === '')) return done(null, undefined);
    defaultJson(req, body as string, (err, value) => {
      // Fastify refuses `__proto__` and `constructor.prototype` keys (prototype poisoning) with the same words as
      // broken JSON; say which it is (QA: "Body is not valid JSON" for valid JSON).
      if (err && isJson(body as string)) return done(new RsError('invalid_json_body', 'The body names a forbidden property (__proto__, or constructor.prototype)'), undefined);
      done(err, value);
    });
  });

  /** The methods the routes matching `path` answer (404 when none, else 405 with them as Allow). */
  const allowedFor = (path: string) => [...new Set(routes.filter((r) => r.pattern.test(path)).flatMap((r) => r.methods))];
  const methodNotAllowed = (reply: FastifyReply, method: string, path: string, allowed: string[]) => {
    reply.header('Allow', allowed.sort().join(', '));
    return new RsError('method_not_allowed', `Method ${method} is not allowed for ${path}; allowed: ${allowed.join(', ')}`);
  };

  app.addHook('onRequest', async (req, reply) => {
    const v = req.headers['x-api-version'];
    if (v !== undefined && !API_VERSION.test(String(v))) {
      throw new RsError('unsupported_api_version', `Unsupported x-api-version '${String(v)}'; supported: 1, 2`);
    }
    const cfg = req.routeOptions.config;
    if (!cfg || req.is404) return;
    // An action catch-all (PUT /v1/bdbs/{uid}/{action}) also matches the paths of real sub-resources
    // (/v1/bdbs/{uid}/certificates, /shards...): there, a method they lack is 405 + Allow as anywhere else,
    // not the catch-all's body validation or unknown-action error (QA 13).
    if (cfg.verbs) {
      const path = req.url.split('?')[0]!;
      const last = path.replace(/\/$/, '').split('/').pop() ?? '';
      if (!cfg.verbs.includes(last)) {
        const allowed = allowedFor(path);
        if (allowed.length > 0) throw methodNotAllowed(reply, req.method, path, allowed);
      }
    }
    const bootstrapped = deps.isBootstrapped();
    if (!bootstrapped) {
      if (cfg.access === 'bootstrap') return;
      throw new RsError('node_not_bootstrapped');
    }
    if (cfg.access === 'healthcheck' && !(await deps.healthcheckNeedsAuth())) return;
    // 'login' routes may carry the credentials in the body instead; preValidation checks them.
    if (cfg.access === 'login' && req.headers.authorization === undefined) return;
    req.caller = await deps.authenticate(req);
  });

  /**
   * access 'login' (objects/jwt_authorize.md): the route needs a username and password, from the
   * Basic header or from `username`/`password` in the body; a token alone is not enough. When
   * both are given they must name the same user.
   */
  const loginFromBody = async (req: FastifyRequest) => {
    const body = (req.body !== null && typeof req.body === 'object' ? req.body : {}) as { username?: unknown; password?: unknown };
    if (body.username === undefined && body.password === undefined) {
      if (!req.caller) throw new RsError('unauthorized');
      if (parseToken(req.headers.authorization) !== undefined) throw new RsError('unauthorized', 'This request needs a username and password, not a token');
      return;
    }
    if (typeof body.username !== 'string' || typeof body.password !== 'string' || !deps.verifyCredentials) {
      throw new RsError('unauthorized', 'Both username and password are required');
    }
    const caller = await deps.verifyCredentials(body.username, body.password, req);
    if (req.caller && (req.caller.uid !== caller.uid || req.caller.name !== caller.name)) {
      throw new RsError('unauthorized', 'The Authorization header and the body name different users');
    }
    req.caller = caller;
  };

  // preValidation: an unauthorized caller gets 403 before any body validation (STYLE §2.3).
  app.addHook('preValidation', async (req) => {
    const cfg = req.routeOptions.config;
    if (cfg?.access === 'login' && !req.is404) await loginFromBody(req);
    if (!req.caller || !cfg?.permission) return;
    if (cfg.permission === ANY_MANAGEMENT_ROLE) {
      if (req.caller.role === 'none') throw new RsError('insufficient_permissions', "Role 'none' has no REST API access");
      return;
    }
    if (cfg.selfService && req.caller.role !== 'none') return; // the service limits the caller to its own account
    if (!roleAllows(req.caller.role, cfg.permission)) {
      throw new RsError('insufficient_permissions', `Role '${req.caller.role}' lacks permission '${cfg.permission}'`);
    }
    // Roles limited to some databases (bdb-scope.ts): check the database the route names.
    const rule = cfg.bdbScope;
    if (!rule || !deps.bdbScope) return;
    const scope = await deps.bdbScope(req.caller);
    if (!scope) return;
    req.bdbScope = scope;
    const outOfScope = (what: string) => new RsError('insufficient_permissions', `Role '${req.caller!.role}' has no access to ${what}`);
    if (rule.deny) throw outOfScope(`this operation: it is limited to databases ${[...scope.bdbs].join(', ') || '(none)'}`);
    const params = (req.params ?? {}) as Record<string, string | undefined>;
    if (rule.param) {
      const uid = /^[0-9]{1,9}$/.test(params[rule.param] ?? '') ? Number(params[rule.param]) : undefined;
      if (uid === undefined || !scope.bdbs.has(uid)) throw outOfScope(`database ${params[rule.param]}`);
    }
    if (rule.shardParam) {
      // A shard that does not exist is left to the handler (404); one of another database is refused.
      const owner = (await scope.shardBdbs()).get(bdbUidOf(params[rule.shardParam]) ?? -1);
      if (owner !== undefined && !scope.bdbs.has(owner)) throw outOfScope(`shard ${params[rule.shardParam]}`);
    }
  });

  // After the permission check, before the schemas: a JSON number beyond 2^53 has already lost digits in
  // JSON.parse (99999999999999999999 is read as 100000000000000000000), so storing it would store another
  // value than the one sent. Refused for every field at once (QA, session 10: max_connections).
  app.addHook('preValidation', async (req) => {
    const at = unsafeNumberAt(req.body, 'body');
    if (at) throw new RsError('invalid_schema', `${at}: must be between -${Number.MAX_SAFE_INTEGER} and ${Number.MAX_SAFE_INTEGER}`);
  });

  app.addHook('preSerialization', async (req: FastifyRequest<{ Querystring: { fields?: string | string[] } }>, reply, payload) => {
    // Scoped callers see only their databases (before `fields=` may drop the field that tells).
    const rule = req.routeOptions.config?.bdbScope;
    if (req.bdbScope && rule && (rule.field || rule.shardField) && reply.statusCode < 300) {
      try {
        payload = filterByScope(payload, rule, req.bdbScope.bdbs, rule.shardField ? await req.bdbScope.shardBdbs() : undefined);
      } catch (e) {
        if (e instanceof OutOfScope) throw new RsError('insufficient_permissions', `Role '${req.caller?.role}' has no access to this database`);
        throw e;
      }
    }
    // Errors keep their error_code and description whatever was asked for; a repeated `fields` adds up.
    const raw = req.method === 'GET' && reply.statusCode < 300 ? req.query?.fields : undefined;
    const fields = Array.isArray(raw) ? raw.join(',') : raw;
    if (typeof fields !== 'string' || fields === '' || payload === null || typeof payload !== 'object') return payload;
    // A response schema requires its fields, so the projection cannot go through it (500 "is required"); it
    // still decides what may be shown (e.g. no write-only key): serialize with it, project that, send as JSON.
    const schemaSerialize = reply.getSerializationFunction(String(reply.statusCode));
    if (typeof schemaSerialize === 'function') {
      payload = JSON.parse(schemaSerialize(payload as Record<string, unknown>)) as unknown;
      reply.serializer(JSON.stringify);
    }
    const wanted = fields.split(',').map((f) => f.trim()).filter(Boolean);
    const pick = (o: unknown) => {
      if (o === null || typeof o !== 'object' || Array.isArray(o)) return o;
      return Object.fromEntries(wanted.filter((k) => Object.hasOwn(o, k)).map((k) => [k, (o as Record<string, unknown>)[k]]));
    };
    return Array.isArray(payload) ? payload.map(pick) : pick(payload);
  });

  app.addHook('onResponse', async (req, reply) => {
    req.log.debug({ method: req.method, url: req.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });

  app.setNotFoundHandler(async (req, reply) => {
    const path = req.url.split('?')[0]!;
    const allowed = allowedFor(path);
    if (allowed.length > 0) throw methodNotAllowed(reply, req.method, path, allowed);
    throw new RsError('not_found', `No such URI: ${req.method} ${path}`);
  });

  app.setErrorHandler(async (err: Error & { statusCode?: number; code?: string; validation?: unknown; validationContext?: string }, req, reply: FastifyReply) => {
    let rs: RsError;
    if (err instanceof RsError) rs = err;
    else if (err.validation) {
      const context = err.validationContext ?? 'body';
      rs = new RsError('invalid_schema', describeValidation(err.validation as ValidationIssue[], context, err.message, validated(req, context)));
    }
    else if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') rs = new RsError('unsupported_content_type');
    else if (err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || err instanceof SyntaxError) {
      rs = new RsError('invalid_json_body', `Malformed JSON body: ${err.message}`);
    } else if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') rs = new RsError('body_too_large');
    else if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) rs = new RsError('bad_request', err.message, { status: err.statusCode });
    else {
      req.log.error({ err }, 'unhandled error');
      rs = new RsError('internal_error');
    }
    if (rs.statusCode >= 500) req.log.warn({ error_code: rs.error_code }, rs.message);
    else req.log.debug({ error_code: rs.error_code }, rs.message);
    if (rs.statusCode === 401) reply.header('WWW-Authenticate', 'Basic realm="openrs"');
    return reply.status(rs.statusCode).type('application/json').send(rs.toJSON());
  });
}

/** One Ajv error, as Fastify hands them over. */
interface ValidationIssue {
  instancePath?: string;
  schemaPath?: string;
  keyword?: string;
  params?: Record<string, unknown>;
  message?: string;
}

/** What was validated: the request part and the route's schema for it (to read unions by their tag). */
interface Validated {
  data: unknown;
  schema: unknown;
}

const REQUEST_PART = { body: 'body', querystring: 'query', params: 'params', headers: 'headers' } as const;

function validated(req: FastifyRequest, context: string): Validated | undefined {
  const part = REQUEST_PART[context as keyof typeof REQUEST_PART];
  const schema = (req.routeOptions.schema as Record<string, unknown> | undefined)?.[context];
  return part && schema ? { data: req[part], schema } : undefined;
}

/** The value at a JSON pointer (`/a/0`, or a schemaPath `#/properties/a/anyOf`); undefined if absent. */
function at(root: unknown, pointer: string): unknown {
  let cur = root;
  for (const raw of pointer.replace(/^#/, '').split('/').slice(1)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (!Object.hasOwn(cur, key)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/**
 * A union of objects told apart by one constant property (backup_location's `type`) fails once
 * per branch, and the first branch's complaint ("must have required property 'url'") says
 * nothing about a mount_point without `path`. Read the tag from the data instead: an unknown
 * tag lists the allowed ones; a known one reports only the errors of its own branch.
 */
function describeTaggedUnion(issues: ValidationIssue[], context: string, fallback: string, v: Validated): string | undefined {
  const union = issues.find((i) => i.keyword === 'anyOf');
  const first = issues[0]!;
  if (!union?.schemaPath || !first.schemaPath?.startsWith(`${union.schemaPath}/`)) return undefined;
  const branches = at(v.schema, union.schemaPath);
  if (!Array.isArray(branches) || branches.length < 2) return undefined;
  const tagOf = (b: unknown, key: string) => (at(b, `/properties/${key}`) as { const?: unknown } | undefined)?.const;
  const keys = Object.keys((at(branches[0], '/properties') ?? {}) as object);
  const tag = keys.find((k) => branches.every((b) => typeof tagOf(b, k) === 'string'));
  const data = at(v.data, union.instancePath ?? '');
  if (!tag || data === null || typeof data !== 'object' || Array.isArray(data)) return undefined;
  const where = `${context}${(union.instancePath ?? '').replace(/\//g, '.')}`;
  const allowed = branches.map((b) => tagOf(b, tag));
  const list = allowed.map((a) => JSON.stringify(a)).join(', ');
  const value = (data as Record<string, unknown>)[tag];
  if (value === undefined) return `${where}: must have required property '${tag}' (one of ${list})`;
  const idx = allowed.indexOf(value);
  if (idx < 0) return `${where}.${tag}: unknown ${tag} ${JSON.stringify(value)}; must be one of ${list}`;
  const own = issues.filter((i) => i.schemaPath?.startsWith(`${union.schemaPath}/${idx}/`));
  if (!own.length) return undefined;
  return `${describeValidation(own, context, fallback, v)} (${tag} ${JSON.stringify(value)})`;
}

/**
 * A validation failure in words that name the field: `body.maxclients: must be <= 1000000`,
 * `body: unknown or read-only field 'status'`, `body.eviction_policy: must be one of 'a', 'b'`.
 */
export function describeValidation(issues: ValidationIssue[], context: string, fallback: string, v?: Validated): string {
  const first = issues[0];
  if (!first) return `${context}: ${fallback}`;
  const tagged = v && describeTaggedUnion(issues, context, fallback, v);
  if (tagged) return tagged;
  const where = (i: ValidationIssue) => `${context}${(i.instancePath ?? '').replace(/\//g, '.')}`;
  if (first.keyword === 'additionalProperties') return `${where(first)}: unknown or read-only field '${String(first.params?.additionalProperty)}'`;
  // A union of constants (the enums) fails once per constant: list the allowed values instead.
  const consts = issues.filter((i) => i.keyword === 'const' && i.instancePath === first.instancePath).map((i) => i.params?.allowedValue);
  if (consts.length > 1) return `${where(first)}: must be one of ${consts.map((v) => JSON.stringify(v)).join(', ')}`;
  return `${where(first)}: ${first.message ?? fallback}`;
}

/** The path of the first number in `v` that JSON cannot carry exactly (beyond ±2^53-1), if any. */
export function unsafeNumberAt(v: unknown, path: string, depth = 0): string | undefined {
  if (typeof v === 'number') return Math.abs(v) > Number.MAX_SAFE_INTEGER ? path : undefined;
  if (v === null || typeof v !== 'object' || depth > 64) return undefined;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const at = unsafeNumberAt(v[i], `${path}[${i}]`, depth + 1);
      if (at) return at;
    }
    return undefined;
  }
  for (const [k, x] of Object.entries(v)) {
    const at = unsafeNumberAt(x, `${path}.${k}`, depth + 1);
    if (at) return at;
  }
  return undefined;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
