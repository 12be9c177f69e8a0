/**
 * The cluster's Redis modules: requests/modules/_index.md (list, get) and the upload / delete
 * routes of the 7.22 modules page (POST /v1/modules, POST /v2/modules, DELETE /v1|v2/modules/{uid}).
 *
 * openrs runs open-source redis-server and installs no module, and it has no way to load an
 * uploaded module package (a RAMP zip built for Redis Software) into its shards. So the list is
 * really empty, every uid is the page's 404, and an upload is refused with a 400 that says why:
 * nothing is stored and nothing answers 200 or an action_uid for work that will not happen.
 * The same list is what bdb create/update and modules/upgrade check `module_list` against
 * (compose.ts), so a database can never name a module this service does not list.
 * What each route answers: docs/decisions/cluster-routes-extra.md.
 */
import { RsError } from '../errors.js';
import type { Module } from '../schemas/module.js';

/** What the upload routes learnt from the request body (api/module-upload-body.ts). */
export interface ModuleUpload {
  /** A multipart/form-data body was sent. */
  multipart: boolean;
  /** It had a part named `module` (the page's `-F "module=@<file>.zip"`). */
  hasModulePart: boolean;
}

export class ModuleService {
  constructor(
    /** The modules installed on the cluster: none in openrs (compose.ts). */
    private readonly installed: () => readonly Module[],
  ) {}

  list(): Module[] {
    return [...this.installed()];
  }

  /** Names and uids, as module_list entries name a module (by module_name or module_id). */
  names(): string[] {
    return this.installed().flatMap((m) => [m.uid, ...(m.module_name ? [m.module_name] : [])]);
  }

  get(uid: string): Module {
    const m = this.installed().find((x) => x.uid === uid);
    if (!m) throw new RsError('module_not_exist', `Module '${uid}' does not exist${this.installed().length ? '' : ' (no modules are installed)'}`);
    return m;
  }

  /** POST /v1/modules and /v2/modules: the page's no_module when nothing was sent, else refused. */
  upload(body: ModuleUpload | undefined): never {
    if (!body?.multipart) {
      throw new RsError('no_module', 'No module was provided: send the module package as the multipart/form-data field "module"');
    }
    if (!body.hasModulePart) throw new RsError('no_module', 'No module was provided: the multipart/form-data body has no "module" field');
    throw new RsError('unsupported_option',
      'Module upload is not supported by openrs: its databases run open-source redis-server, which cannot load Redis Software module packages. Nothing was stored.');
  }

  /** DELETE /v1/modules/{uid} and /v2/modules/{uid}. */
  remove(uid: string): never {
    this.get(uid);
    // Unreachable while no module can be installed.
    throw new RsError('unsupported_option', 'Deleting a module is not supported by openrs');
  }
}
