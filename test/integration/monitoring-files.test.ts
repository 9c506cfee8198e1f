/**
 * README, "Operations", "Prometheus and Grafana": the dashboard and the alert rules
 * shipped in deploy/ read only metrics that the service exposes. The service is
 * started and scraped, and the files are parsed (JSON, and YAML with `yaml`). The
 * PromQL itself is checked by `promtool check rules` (README), which is not among
 * the project's dependencies.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { useTestService } from '../fixture.ts';

const t = useTestService({ adminToken: true });

const dashboardFile = new URL('../../deploy/grafana/vitalink.json', import.meta.url);
const rulesFile = new URL('../../deploy/prometheus/vitalink-rules.yml', import.meta.url);

/** Every series name /metrics can give: from its `# TYPE` lines, with a histogram's _bucket, _sum and _count. */
async function exposedNames(): Promise<Set<string>> {
  const text = await (await fetch(`${t.httpUrl}/metrics`)).text();
  const names = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (type === 'histogram' || type === 'summary') {
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
      if (type === 'summary') names.add(name);
    } else names.add(name);
  }
  return names;
}

/** The service's metric names an expression reads. */
function namesIn(expr: string): string[] {
  return [...expr.matchAll(/\bvitalink_[a-z0-9_]+/g)].map((m) => m[0]);
}

/** Every PromQL expression of a Grafana dashboard: panel targets (rows included) and query variables. */
function dashboardExpressions(dashboard: Record<string, unknown>): string[] {
  const found: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (node === null || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node)) {
      if ((key === 'expr' || key === 'query' || key === 'definition') && typeof value === 'string') found.push(value);
      else walk(value);
    }
  };
  walk(dashboard.panels);
  walk(dashboard.templating);
  return found;
}

interface Rule {
  alert?: string;
  expr?: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

describe('deploy/grafana/vitalink.json', () => {
  it('is a Grafana dashboard whose every query reads metrics of /metrics', async () => {
    const dashboard = JSON.parse(readFileSync(dashboardFile, 'utf8')) as Record<string, unknown>;
    expect(dashboard).toMatchObject({ uid: 'vitalink', title: 'Vitalink' });
    const panels = (dashboard.panels as Array<{ type: string; title: string; targets?: unknown[] }>).filter(
      (p) => p.type !== 'row',
    );
    expect(panels.length).toBeGreaterThan(10);
    for (const p of panels) expect(p.targets?.length, p.title).toBeGreaterThan(0);

    const exposed = await exposedNames();
    const used = new Set(dashboardExpressions(dashboard).flatMap(namesIn));
    expect(used.size).toBeGreaterThan(30);
    expect([...used].filter((name) => !exposed.has(name))).toEqual([]);
    // What the issue asked to see: requests, the build, open alerts, the database.
    for (const name of [
      'vitalink_http_request_duration_seconds_bucket',
      'vitalink_build_info',
      'vitalink_alerts_open',
      'vitalink_database_up',
    ]) {
      expect(used).toContain(name);
    }
  });
});

describe('deploy/prometheus/vitalink-rules.yml', () => {
  const rules = (): Rule[] => {
    const file = parse(readFileSync(rulesFile, 'utf8')) as { groups: Array<{ name: string; rules: Rule[] }> };
    return file.groups.flatMap((g) => g.rules);
  };

  it('has alerting rules with a severity and a summary, reading metrics of /metrics', async () => {
    const all = rules();
    expect(all.length).toBeGreaterThan(10);
    for (const rule of all) {
      expect(rule.alert, JSON.stringify(rule)).toMatch(/^Vitalink[A-Za-z]+$/);
      expect(typeof rule.expr, rule.alert).toBe('string');
      expect(['critical', 'warning']).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
      if (rule.for !== undefined) expect(rule.for, rule.alert).toMatch(/^\d+[smhd]$/);
    }
    const names = new Set(all.map((r) => r.alert));
    expect(names.size).toBe(all.length);
    for (const expected of [
      'VitalinkInstanceDown',
      'VitalinkDatabaseDown',
      'VitalinkIngestionStopped',
      'VitalinkAckLatencyHigh',
      'VitalinkAggregationLag',
      'VitalinkNotificationsDeadLetters',
      'VitalinkTlsReloadFailed',
    ]) {
      expect(names).toContain(expected);
    }

    const exposed = await exposedNames();
    const used = new Set(all.flatMap((r) => namesIn(r.expr ?? '')));
    expect([...used].filter((name) => !exposed.has(name))).toEqual([]);
  });
});
