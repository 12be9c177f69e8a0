/**
 * A database's Redis modules: requests/bdbs/modules/config.md (runtime arguments) and upgrade.md
 * (switch to another installed version). Checks in the pages' order of concern: the request's own
 * fields (400), the database (404), then the modules it names.
 *
 * openrs installs no Redis modules (the cluster's list is empty, so `module_list` is always empty:
 * docs/decisions/bdb-schema.md), so every module a request names is missing. Nothing is changed
 * and nothing answers 200 for a module that is not there.
 */
import { RsError } from '../errors.js';
import type { Collection } from '../store/object-store.js';
import type { BdbRecord } from './bdb-view.js';

/** One `modules` entry of modules/config.md; fields optional here so a missing one is `missing_field`. */
export interface ModuleConfigEntry {
  module_name?: string;
  module_args?: string;
}

/** One `modules` entry of modules/upgrade.md (the table's fields and the example's). */
export interface ModuleUpgradeEntry {
  module_name?: string;
  current_module?: string;
  current_semantic_version?: string;
  new_module?: string;
  new_module_args?: string;
}

/** config.md: "pattern does not allow special characters &,<,>,"" */
const ARGS_FORBIDDEN = /[&<>"]/;

const lower = (s: string) => s.toLowerCase();

export class BdbModuleService {
  constructor(
    private readonly bdbs: Collection<BdbRecord>,
    /** Names and uids of the modules installed on the cluster (compared case-insensitively). */
    private readonly installedModules: () => readonly string[],
  ) {}

  private async record(uid: number): Promise<BdbRecord> {
    const rec = (await this.bdbs.get(uid))?.value;
    if (!rec) throw new RsError('db_not_exist', `Database ${uid} does not exist`);
    return rec;
  }

  /** The database's module_list entry named `name` (by module_name or module_id), if any. */
  private static moduleOf(rec: BdbRecord, name: string) {
    return (rec.module_list ?? []).find((m) => [m.module_name, m.module_id].some((n) => n !== undefined && lower(n) === lower(name)));
  }

  /** POST /v1/bdbs/{uid}/modules/config. */
  async configure(uid: number, modules: ModuleConfigEntry[] | undefined): Promise<never> {
    if (!modules?.length) throw new RsError('missing_field', '"modules" must list at least one module');
    modules.forEach((m, i) => {
      if (m.module_name === undefined || m.module_args === undefined) {
        throw new RsError('missing_field', `modules[${i}]: "module_name" and "module_args" are both required`);
      }
      if (ARGS_FORBIDDEN.test(m.module_args)) throw new RsError('param_error', `modules[${i}].module_args: the characters & < > " are not allowed`);
    });
    const rec = await this.record(uid);
    for (const m of modules) {
      if (!BdbModuleService.moduleOf(rec, m.module_name!)) {
        throw new RsError('module_not_exist', `Database ${uid} has no module '${m.module_name}'${rec.module_list?.length ? '' : ' (it has no modules)'}`);
      }
    }
    // Unreachable while no module can be installed: the runtime configuration command is not run by openrs.
    throw new RsError('unsupported_option', 'Runtime module configuration is not implemented by openrs');
  }

  /** POST /v1/bdbs/{uid}/modules/upgrade. */
  async upgrade(uid: number, modules: ModuleUpgradeEntry[] | undefined): Promise<never> {
    if (!modules?.length) throw new RsError('missing_field', '"modules" must list at least one module');
    modules.forEach((m, i) => {
      if (m.new_module === undefined) throw new RsError('missing_field', `modules[${i}]: "new_module" is required`);
      if (m.module_name === undefined && m.current_module === undefined) {
        throw new RsError('missing_field', `modules[${i}]: "current_module" (or "module_name") names the module to upgrade`);
      }
    });
    const rec = await this.record(uid);
    const installed = new Set(this.installedModules().map(lower));
    for (const m of modules) {
      if (!installed.has(lower(m.new_module!))) {
        throw new RsError('missing_module', `Module '${m.new_module}' is not present in the cluster${installed.size ? '' : ' (no modules are installed)'}`);
      }
    }
    for (const m of modules) {
      const current = m.current_module ?? m.module_name!;
      if (!BdbModuleService.moduleOf(rec, current)) throw new RsError('module_not_exist', `Database ${uid} has no module '${current}'`);
    }
    // Unreachable while no module can be installed: openrs does not restart shards with another module.
    throw new RsError('unsupported_option', 'Module upgrade is not implemented by openrs');
  }
}
