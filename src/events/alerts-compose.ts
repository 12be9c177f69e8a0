/** Composition of alert evaluation: settings and objects from the CCS, live stats from the sampler, SMTP mail. */
import type { Logger } from 'pino';
import { USERS_PREFIX, type UserRecord } from '../auth/user-record.js';
import { BDBS_PREFIX } from '../services/bdb-service.js';
import type { BdbRecord } from '../services/bdb-view.js';
import type { ClusterRecord } from '../services/cluster-defaults.js';
import type { NodeRecord } from '../services/node-service.js';
import type { KvBackend } from '../store/kv.js';
import { Collection, type Singleton } from '../store/object-store.js';
import type { Sampler } from '../stats/sampler.js';
import type { Clock } from '../util/clock.js';
import { AlertService } from './alerts.js';
import type { EventLog } from './event-log.js';
import { SmtpMailer, type MailSender } from './mailer.js';

export function composeAlerts(o: {
  kv: KvBackend;
  log: Logger;
  clock: Clock;
  eventLog: EventLog;
  cluster: Singleton<ClusterRecord>;
  nodes: Collection<NodeRecord>;
  sampler: Sampler;
  licenseExpiry(): Promise<Date | undefined>;
  certificates(): Promise<Record<string, string>>;
  mailer?: MailSender;
}): AlertService {
  const bdbs = new Collection<BdbRecord>(o.kv, BDBS_PREFIX);
  const users = new Collection<UserRecord>(o.kv, USERS_PREFIX);
  const alerts = new AlertService({
    clock: o.clock,
    events: o.eventLog,
    kv: o.kv,
    log: o.log,
    mailer: o.mailer ?? new SmtpMailer(),
    cluster: async () => (await o.cluster.get())?.value,
    nodes: () => o.nodes.list(),
    bdbs: () => bdbs.list(),
    users: () => users.list(),
    licenseExpiry: o.licenseExpiry,
    certificates: o.certificates,
    latest: () => o.sampler.latest,
  });
  o.sampler.onSample(() => alerts.evaluate());
  return alerts;
}
