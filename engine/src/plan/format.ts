import type { DryRunPlan } from './dry-run.js';

/**
 * Plan output: human (terminal), json (machines) and markdown (a pull-request comment).
 * Pure functions of the plan.
 */
const SYMBOL = { create: '+', update: '~', prune: '-', unchanged: '=' } as const;
const show = (v: unknown): string => (v === undefined ? '(unset)' : JSON.stringify(v));

export function formatPlanHuman(plan: DryRunPlan, revision?: string): string {
  const lines: string[] = [];
  if (revision) lines.push(`Plan for ${revision}`);
  for (const i of plan.items) {
    if (i.action === 'unchanged') continue;
    lines.push(`${SYMBOL[i.action]} ${i.kind}/${i.name} (${i.action})`);
    for (const c of i.changes ?? []) lines.push(`    ${c.path}: ${show(c.before)} → ${show(c.after)}`);
  }
  for (const r of plan.rejected) lines.push(`! ${r.kind}/${r.name} rejected (${r.reason}): ${r.message}`);
  const c = plan.counts;
  lines.push(
    `${c.create} to create, ${c.update} to update, ${c.prune} to prune, ${c.unchanged} unchanged${plan.rejected.length ? `, ${plan.rejected.length} rejected` : ''}`,
  );
  return `${lines.join('\n')}\n`;
}

export function formatPlanJson(plan: DryRunPlan, revision?: string): string {
  return `${JSON.stringify(
    {
      revision,
      counts: plan.counts,
      items: plan.items.map((i) => ({
        action: i.action,
        kind: i.kind,
        name: i.name,
        ...(i.changes ? { changes: i.changes } : {}),
      })),
      rejected: plan.rejected,
    },
    null,
    2,
  )}\n`;
}

const mdEscape = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function formatPlanMarkdown(plan: DryRunPlan, revision?: string): string {
  const c = plan.counts;
  const out = [
    `### Bulkhead plan${revision ? ` for \`${revision.slice(0, 12)}\`` : ''}`,
    '',
    `**${c.create}** to create · **${c.update}** to update · **${c.prune}** to prune · ${c.unchanged} unchanged${plan.rejected.length ? ` · **${plan.rejected.length} rejected**` : ''}`,
    '',
  ];
  const changed = plan.items.filter((i) => i.action !== 'unchanged');
  if (changed.length > 0) {
    out.push('| | object | change |', '|---|---|---|');
    for (const i of changed) {
      const detail = (i.changes ?? [])
        .map((ch) => `\`${ch.path}\`: ${mdEscape(show(ch.before))} → ${mdEscape(show(ch.after))}`)
        .join('<br>');
      out.push(`| ${SYMBOL[i.action]} | ${i.kind}/${i.name} | ${i.action}${detail ? `<br>${detail}` : ''} |`);
    }
    out.push('');
  }
  for (const r of plan.rejected) out.push(`> ⚠ ${r.kind}/${r.name} rejected (${r.reason}): ${mdEscape(r.message)}`);
  return `${out.join('\n')}\n`;
}
