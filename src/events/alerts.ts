/**
 * Alert evaluation and state (objects/alert.md). Every sample re-evaluates each cluster, node
 * and database alert against the live stats; an alert's `state`, `change_time` and
 * `change_value` change only when it turns on or off. A change of an enabled alert is written to
 * the event log (clusters/logging/alerts-events.md: on = its severity, off = INFO) and mailed to
 * the users who asked for it when the cluster has SMTP settings.
 *
 * Disabled alerts are still evaluated and reported with their real state and `enabled: false`,
 * as the cluster_alerts.json capture shows (cluster_even_node_count); they raise no event.
 * States are kept in the CCS (ALERT_STATES_KEY): a restart raises no alert that is still on, and keeps change_time.
 */
import { X509Certificate } from 'node:crypto';
import type { Logger } from 'pino';
import { RsError } from '../errors.js';
import type { BdbRecord } from '../services/bdb-view.js';
import type { ClusterRecord } from '../services/cluster-defaults.js';
import type { NodeRecord } from '../services/node-service.js';
import type { UserRecord } from '../auth/user-record.js';
import { KvConflictError, type KvBackend } from '../store/kv.js';
import type { Derived } from '../stats/derive.js';
import type { RawSnapshot } from '../stats/raw.js';
import { rsTime, type Clock } from '../util/clock.js';
import type { EventLog } from './event-log.js';
import { BDB_ALERTS, CLUSTER_ALERTS, NODE_ALERTS, thresholdProblem, type AlertDef, type AlertScope, type Severity } from './alerts-catalog.js';
import { smtpConfigured, type MailSender, type SmtpSettings } from './mailer.js';

export interface AlertSetting {
  enabled?: boolean;
  threshold?: string;
}
export type AlertSettings = Record<string, AlertSetting | boolean | undefined>;

export interface AlertView {
  change_time: string;
  change_value: Record<string, unknown>;
  enabled: boolean;
  severity: Severity;
  state: boolean;
  threshold?: string;
}

interface AlertState {
  state: boolean;
  change_time: string;
  change_value: Record<string, unknown>;
}

export interface AlertDeps {
  clock: Clock;
  events: EventLog;
  kv: KvBackend;
  log: Logger;
  mailer: MailSender;
  cluster(): Promise<ClusterRecord | undefined>;
  nodes(): Promise<NodeRecord[]>;
  bdbs(): Promise<BdbRecord[]>;
  users(): Promise<UserRecord[]>;
  licenseExpiry(): Promise<Date | undefined>;
  certificates(): Promise<Record<string, string>>;
  latest(): { derived: Derived; snapshot: RawSnapshot } | undefined;
}

const BDB_ALERTS_PREFIX = '/bdb_alerts/';
const DAY = 86_400_000;

function setting(s: AlertSettings | undefined, name: string): { enabled: boolean; threshold?: string } {
  const v = s?.[name];
  if (typeof v === 'boolean') return { enabled: v };
  return { enabled: v?.enabled === true, ...(v?.threshold !== undefined ? { threshold: v.threshold } : {}) };
}

function thresholdNumber(t: string | undefined): number | undefined {
  if (t === undefined || t.trim() === '') return undefined;
  const v = Number(t);
  return Number.isFinite(v) ? v : undefined;
}

/** What is wrong with the shape of one alert's settings ({enabled?: boolean, threshold?: string}); undefined when fine. */
function settingShapeProblem(s: unknown): string | undefined {
  if (typeof s !== 'object' || s === null || Array.isArray(s)) return 'must be an object with enabled and threshold';
  const o = s as Record<string, unknown>;
  const extra = Object.keys(o).filter((k) => k !== 'enabled' && k !== 'threshold');
  if (extra.length) return `unknown field(s): ${extra.join(', ')}`;
  if (o.enabled !== undefined && typeof o.enabled !== 'boolean') return 'enabled must be a boolean';
  if (o.threshold !== undefined && typeof o.threshold !== 'string') return 'threshold must be a string';
  return undefined;
}

/** Where the alert states are kept across restarts (internal, never part of an API object). */
export const ALERT_STATES_KEY = '/internal/alert_states';

export class AlertService {
  private readonly states = new Map<string, AlertState>();
  private readonly downShards = new Set<number>();
  private evaluated = false;
  private running: Promise<void> = Promise.resolve();

  constructor(private readonly d: AlertDeps) {}

  /** Evaluate everything now (serialized: the sampler and readers may ask at the same time). */
  evaluate(): Promise<void> {
    const next = this.running.then(() => this.evaluateNow()).catch((e: unknown) => this.d.log.warn({ err: e }, 'alert evaluation failed'));
    this.running = next;
    return next;
  }

  private async ensureEvaluated(): Promise<void> {
    if (!this.evaluated) await this.evaluate();
  }

  private async evaluateNow(): Promise<void> {
    if (!this.loaded) {
      // The states a previous run left: an alert that is still on is not raised again (a new event and
      // e-mail at every restart, QA), and change_time stays the time it really changed.
      const kept = (await this.d.kv.get<Record<string, AlertState>>(ALERT_STATES_KEY))?.value ?? {};
      for (const [k, v] of Object.entries(kept)) if (!this.states.has(k)) this.states.set(k, v);
      this.loaded = true;
    }
    this.dirty = false;
    const now = this.d.clock.now();
    const [cluster, nodes, bdbs] = await Promise.all([this.d.cluster(), this.d.nodes(), this.d.bdbs()]);
    const latest = this.d.latest();
    const rawNodes = latest?.snapshot.nodes ?? [];
    const totalRam = rawNodes.reduce((s, n) => s + n.memory.total, 0);
    const settings = cluster?.alert_settings as AlertSettings | undefined;

    const expiry = await this.d.licenseExpiry().catch(() => undefined);
    const certDaysLeft: Record<string, number> = {};
    for (const [k, pem] of Object.entries(await this.d.certificates().catch(() => ({})))) {
      if (!k.endsWith('_cert')) continue;
      try {
        certDaysLeft[k.slice(0, -'_cert'.length)] = (Date.parse(new X509Certificate(pem).validTo) - now.getTime()) / DAY;
      } catch {
        // not a parsable certificate: nothing to warn about
      }
    }
    const committedRam = bdbs.reduce((s, b) => s + (b.memory_size ?? 0) * (b.replication ? 2 : 1), 0);
    const clusterFacts = { nodeCount: nodes.length, totalRam, committedRam, licenseDaysLeft: expiry && (expiry.getTime() - now.getTime()) / DAY, certDaysLeft };
    for (const def of CLUSTER_ALERTS) await this.apply('cluster', '', def, clusterFacts, setting(settings, def.name), cluster, now);

    for (const n of nodes) {
      const raw = rawNodes.find((r) => r.uid === n.uid);
      const facts = { metrics: latest?.derived.nodes.get(n.uid) ?? {}, totalRam: raw?.memory.total ?? 0, persistentSize: raw?.persistent?.size, ephemeralSize: raw?.ephemeral?.size };
      for (const def of NODE_ALERTS) await this.apply('node', String(n.uid), def, facts, setting(settings, def.name), cluster, now);
    }

    for (const b of bdbs) {
      const bdbSettings = await this.bdbSettings(b.uid);
      const masters = (latest?.snapshot.shards ?? []).filter((s) => s.bdb_uid === b.uid && s.role === 'master' && s.info);
      const datasetBytes = masters.length ? masters.reduce((s, m) => s + Number(m.info!.memory?.used_memory ?? 0), 0) : undefined;
      const facts = { metrics: latest?.derived.bdbs.get(b.uid) ?? {}, memorySize: b.memory_size ?? 0, datasetBytes };
      for (const def of BDB_ALERTS) await this.apply('bdb', String(b.uid), def, facts, setting(bdbSettings, def.name), cluster, now, b);
    }
    // Forget objects that are gone.
    const live = new Set([...nodes.map((n) => `node:${n.uid}:`), ...bdbs.map((b) => `bdb:${b.uid}:`)]);
    for (const k of this.states.keys()) {
      if (!k.startsWith('cluster:') && ![...live].some((p) => k.startsWith(p))) {
        this.states.delete(k);
        this.dirty = true;
      }
    }
    if (this.dirty) await this.d.kv.put(ALERT_STATES_KEY, Object.fromEntries(this.states));
    this.trackShards(latest?.snapshot);
    this.evaluated = true;
  }

  private loaded = false;
  private dirty = false;

  /** shard_down / shard_up events when a shard stops or starts answering the sampler. */
  private trackShards(snap: RawSnapshot | undefined): void {
    if (!snap) return;
    for (const s of snap.shards) {
      const down = !s.info;
      if (down === this.downShards.has(s.uid)) continue;
      if (down) this.downShards.add(s.uid);
      else this.downShards.delete(s.uid);
      this.d.events.write(down ? 'shard_down' : 'shard_up', { shard_uid: String(s.uid), bdb_uid: String(s.bdb_uid), node_uid: String(s.node_uid) }, down ? 'ERROR' : 'INFO');
    }
    for (const uid of [...this.downShards]) if (!snap.shards.some((s) => s.uid === uid)) this.downShards.delete(uid);
  }

  private async apply<F>(scope: AlertScope, uid: string, def: AlertDef<F>, facts: F, s: { enabled: boolean; threshold?: string },
    cluster: ClusterRecord | undefined, now: Date, bdb?: BdbRecord): Promise<void> {
    const e = def.evaluate(facts, thresholdNumber(s.threshold));
    const key = `${scope}:${uid}:${def.name}`;
    const prev = this.states.get(key);
    if (prev && prev.state === e.state) return;
    this.states.set(key, { state: e.state, change_time: rsTime(now), change_value: e.value });
    this.dirty = true;
    if (!s.enabled || (!prev && !e.state)) return;
    const severity: Severity = e.state ? def.onSeverity : 'INFO';
    const objectField = scope === 'cluster' ? {} : { [`${scope}_uid`]: uid };
    this.d.events.write(def.name, { ...objectField, ...e.value, state: e.state }, severity);
    void this.mail(scope, uid, def.name, severity, e.state, e.value, cluster, bdb).catch((err: unknown) =>
      this.d.log.warn({ err, alert: def.name }, 'cannot send the alert email'));
  }

  private async mail(scope: AlertScope, uid: string, name: string, severity: Severity, state: boolean, value: Record<string, unknown>,
    cluster: ClusterRecord | undefined, bdb?: BdbRecord): Promise<void> {
    const smtp = (cluster ?? {}) as SmtpSettings & { email_alerts?: boolean; name?: string };
    if (!smtpConfigured(smtp)) return;
    if (scope === 'bdb' ? bdb?.email_alerts !== true : smtp.email_alerts !== true) return;
    const to = (await this.d.users()).filter((u) => u.email && u.email_alerts !== false && (scope === 'bdb'
      ? (u.bdbs_email_alerts ?? []).some((x) => x === 'all' || x === uid)
      : u.cluster_email_alerts === true)).map((u) => u.email);
    if (to.length === 0) return;
    const object = scope === 'cluster' ? `cluster ${smtp.name ?? ''}`.trim() : scope === 'node' ? `node ${uid}` : `database ${uid}${bdb?.name ? ` (${bdb.name})` : ''}`;
    await this.d.mailer.send(smtp, {
      to,
      subject: `[${smtp.name ?? 'openrs'}] ${severity}: ${name} is ${state ? 'on' : 'off'} for ${object}`,
      text: [`Alert: ${name}`, `Object: ${object}`, `State: ${state ? 'on' : 'off'}`, `Severity: ${severity}`, `Time: ${rsTime(this.d.clock.now())}`,
        ...Object.entries(value).filter(([k]) => k !== 'state').map(([k, v]) => `${k}: ${JSON.stringify(v)}`)].join('\n'),
    });
  }

  private view(scope: AlertScope, uid: string, def: AlertDef<never>, s: { enabled: boolean; threshold?: string }): AlertView {
    const st = this.states.get(`${scope}:${uid}:${def.name}`) ?? { state: false, change_time: rsTime(this.d.clock.now()), change_value: { state: false } };
    return {
      change_time: st.change_time,
      change_value: st.change_value,
      enabled: s.enabled,
      severity: st.state ? def.onSeverity : 'INFO',
      state: st.state,
      ...(s.threshold !== undefined ? { threshold: s.threshold } : {}),
    };
  }

  private static pick(all: Record<string, AlertView>, alert: string | undefined): Record<string, AlertView> | AlertView {
    if (alert === undefined) return all;
    const v = all[alert];
    if (!v) throw new RsError('not_found', `Alert '${alert}' does not exist`);
    return v;
  }

  // --- reads (requests/{cluster,nodes,bdbs}/alerts) ---
  async clusterAlerts(alert?: string): Promise<Record<string, AlertView> | AlertView> {
    await this.ensureEvaluated();
    const settings = (await this.d.cluster())?.alert_settings as AlertSettings | undefined;
    return AlertService.pick(Object.fromEntries(CLUSTER_ALERTS.map((def) => [def.name, this.view('cluster', '', def as AlertDef<never>, setting(settings, def.name))])), alert);
  }

  async nodeAlerts(uid?: number, alert?: string): Promise<unknown> {
    await this.ensureEvaluated();
    const nodes = (await this.d.nodes()).map((n) => n.uid);
    if (uid !== undefined && !nodes.includes(uid)) throw new RsError('node_not_found', `Node ${uid} does not exist`);
    const settings = (await this.d.cluster())?.alert_settings as AlertSettings | undefined;
    const one = (u: number) => Object.fromEntries(NODE_ALERTS.map((def) => [def.name, this.view('node', String(u), def as AlertDef<never>, setting(settings, def.name))]));
    if (uid === undefined) return Object.fromEntries(nodes.map((u) => [String(u), one(u)]));
    return AlertService.pick(one(uid), alert);
  }

  async bdbAlerts(uid?: number, alert?: string): Promise<unknown> {
    await this.ensureEvaluated();
    const bdbs = (await this.d.bdbs()).map((b) => b.uid);
    if (uid !== undefined && !bdbs.includes(uid)) throw new RsError('db_not_exist', `Database ${uid} does not exist`);
    const one = async (u: number) => {
      const s = await this.bdbSettings(u);
      return Object.fromEntries(BDB_ALERTS.map((def) => [def.name, this.view('bdb', String(u), def as AlertDef<never>, setting(s, def.name))]));
    };
    if (uid === undefined) return Object.fromEntries(await Promise.all(bdbs.map(async (u) => [String(u), await one(u)])));
    return AlertService.pick(await one(uid), alert);
  }

  async requireBdb(uid: number): Promise<void> {
    if (!(await this.d.bdbs()).some((b) => b.uid === uid)) throw new RsError('db_not_exist', `Database ${uid} does not exist`);
  }

  // --- POST /v1/bdbs/alerts/{uid} ---
  async bdbSettings(uid: number): Promise<AlertSettings> {
    return (await this.d.kv.get<AlertSettings>(`${BDB_ALERTS_PREFIX}${uid}`))?.value ?? {};
  }

  async updateBdbAlerts(uid: number, raw: Record<string, unknown>, dryRun: boolean): Promise<unknown> {
    await this.requireBdb(uid);
    const body: Record<string, AlertSetting> = {};
    for (const [name, s] of Object.entries(raw)) {
      if (!BDB_ALERTS.some((d) => d.name === name)) throw RsError.custom('invalid_alert', 406, `'${name}' is not a database alert`);
      const problem = settingShapeProblem(s);
      if (problem) throw RsError.custom('invalid_configuration', 406, `${name}: ${problem}`);
      body[name] = s as AlertSetting;
    }
    for (const [name, s] of Object.entries(body)) {
      const problem = thresholdProblem(name, s);
      if (problem) throw RsError.custom('invalid_threshold', 406, problem);
    }
    if (!dryRun) {
      const key = `${BDB_ALERTS_PREFIX}${uid}`;
      for (;;) {
        const cur = await this.d.kv.get<AlertSettings>(key);
        const merged: AlertSettings = { ...cur?.value };
        for (const [name, s] of Object.entries(body)) merged[name] = { ...(merged[name] as AlertSetting | undefined), ...s };
        try {
          await this.d.kv.put(key, merged, cur?.modRevision ?? 0);
          break;
        } catch (e) {
          if (!(e instanceof KvConflictError)) throw e;
        }
      }
      this.d.events.write('bdb_updated', { bdb_uid: String(uid), changed: 'alert_settings' });
      await this.evaluate();
    }
    return this.bdbAlerts(uid);
  }
}
