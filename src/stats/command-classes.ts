/**
 * Which commands are reads, writes or other, from Redis's own command flags (COMMAND INFO):
 * `write` → write, `readonly` → read, anything else (PING, INFO, CLIENT...) → other. Learned
 * from the shards themselves, so modules' commands classify too. Commandstats names
 * subcommands `config|get`, which COMMAND INFO accepts as is (Redis 7).
 */
import type { CommandClass } from './raw.js';

export class CommandClasses {
  private readonly known = new Map<string, CommandClass>();

  classify = (name: string): CommandClass => this.known.get(name) ?? 'other';

  /** Every class learned so far (taught to the proxy for its own read/write/other figures). */
  all(): Record<string, CommandClass> {
    return Object.fromEntries(this.known);
  }

  unknown(names: string[]): string[] {
    return names.filter((n) => !this.known.has(n));
  }

  /**
   * Learn from a COMMAND INFO reply for `names` (same order; nil for a command Redis does not
   * know, e.g. one from an unloaded module: it stays 'other').
   */
  learn(names: string[], reply: unknown): void {
    const rows = Array.isArray(reply) ? reply : [];
    names.forEach((name, i) => {
      const row = rows[i];
      const flags = Array.isArray(row) && Array.isArray(row[2]) ? (row[2] as unknown[]).map(String) : [];
      this.known.set(name, flags.includes('write') ? 'write' : flags.includes('readonly') ? 'read' : 'other');
    });
  }
}
