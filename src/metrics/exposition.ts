/**
 * Collects metric samples for one scrape and renders them in the Prometheus text format with
 * prom-client (escaping, HELP/TYPE lines). A fresh registry per scrape: the set of databases,
 * shards and endpoints changes between scrapes, and a series that is gone must disappear.
 */
import { Counter, Gauge, Registry } from 'prom-client';

export type Labels = Record<string, string>;

interface Family {
  help: string;
  type: 'gauge' | 'counter';
  samples: { labels: Labels; value: number }[];
}

export class Exposition {
  private readonly families = new Map<string, Family>();

  /** Add one sample; non-finite values (unknown) are left out. */
  add(name: string, help: string, labels: Labels, value: number | undefined, type: 'gauge' | 'counter' = 'gauge'): void {
    if (value === undefined || !Number.isFinite(value)) return;
    let f = this.families.get(name);
    if (!f) this.families.set(name, (f = { help, type, samples: [] }));
    f.samples.push({ labels, value });
  }

  names(): string[] {
    return [...this.families.keys()];
  }

  async render(): Promise<string> {
    const registry = new Registry();
    for (const [name, f] of this.families) {
      const labelNames = [...new Set(f.samples.flatMap((s) => Object.keys(s.labels)))];
      if (f.type === 'counter') {
        const c = new Counter({ name, help: f.help, labelNames, registers: [registry] });
        for (const s of f.samples) c.inc(s.labels, Math.max(0, s.value));
      } else {
        const g = new Gauge({ name, help: f.help, labelNames, registers: [registry] });
        for (const s of f.samples) g.set(s.labels, s.value);
      }
    }
    return registry.metrics();
  }
}
