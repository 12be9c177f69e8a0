/**
 * Active-Active databases (requests/crdbs/, requests/crdb_tasks/). openrs has no CRDT module and
 * runs no syncer or CRDB coordinator, so no CRDB can exist: POST /v1/bdbs refuses `crdt: true`
 * (400 unsupported_option, bdb-field-rules.ts) and POST /v1/crdbs is refused the same way. What the
 * routes answer is what is true of such a cluster: an empty list of CRDBs and of tasks, and the
 * pages' 404 for any CRDB or task named (docs/decisions/cluster-routes-health.md).
 */
import { RsError } from '../errors.js';

/** A CRDB guid as RS prints them (the pages' example: 552bbccb-99f3-4142-bd17-93d245f0bc79). */
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const NOT_SUPPORTED = 'Active-Active (CRDB) databases are not supported by openrs: it has no CRDT module, syncer or CRDB coordinator (POST /v1/bdbs refuses crdt: true the same way)';

export class CrdbService {
  /** GET /v1/crdbs: the shape of the real capture (fixtures crdbs_list.json), empty. */
  list(): { crdbs: never[] } {
    return { crdbs: [] };
  }

  /** POST /v1/crdbs (also with dry_run: what cannot be created cannot be validated as creatable). */
  create(): never {
    throw new RsError('unsupported_option', NOT_SUPPORTED);
  }

  /** Every route naming one CRDB: 404, since none exists. */
  get(guid: string): never {
    throw notFound(guid);
  }

  /** DELETE: the page's 406 for a guid that is not one, else 404 like the others. */
  delete(guid: string): never {
    if (!GUID.test(guid)) throw new RsError('invalid_crdb_guid', `'${guid}' is not an Active-Active database GUID`);
    throw notFound(guid);
  }

  /** GET /v1/crdb_tasks: a JSON array of CRDB task objects, as the page says; no task ever runs. */
  tasks(): never[] {
    return [];
  }

  task(id: string): never {
    throw new RsError('crdb_task_not_exist', `CRDB task '${id}' does not exist`);
  }
}

function notFound(guid: string): RsError {
  return new RsError('crdb_not_exist', `Active-Active database '${guid}' does not exist`);
}
