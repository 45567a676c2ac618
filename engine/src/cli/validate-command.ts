import { readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { Option, type Command } from 'commander';
import { errorMessage, isBulkheadError } from '../core/errors.js';
import { isError, loadPolicyDir, type Diagnostic, type LoadResult } from '../policy/index.js';
import { EXIT, type CommandRegistrar } from './command.js';
import { formatReportHuman } from './output/human.js';
import { formatReportJson } from './output/json.js';
import type { ValidationReport } from './output/report.js';
import { formatReportSarif } from './output/sarif.js';

export type OutputFormat = 'human' | 'json' | 'sarif';

async function toolVersion(): Promise<string> {
  const text = await readFile(new URL('../../../package.json', import.meta.url), 'utf8').catch(() => '{}');
  return (JSON.parse(text) as { version?: string }).version ?? '0.0.0';
}

/** Repository-relative paths become relative to the working directory, so they open on click. */
function displayPath(root: string, file: string): string {
  const rel = relative(process.cwd(), join(root, file)).split(sep).join('/');
  return file.endsWith('/') ? `${rel}/` : rel;
}

export function buildReport(
  root: string,
  result: LoadResult,
  opts: { failOnWarnings?: boolean } = {},
): ValidationReport {
  const failOnWarnings = opts.failOnWarnings ?? result.settings?.validation?.failOnWarnings ?? false;
  const diagnostics: Diagnostic[] = result.diagnostics.map((d) => ({ ...d, file: displayPath(root, d.file) }));
  const valid = !diagnostics.some((d) => isError(d) || failOnWarnings);
  return { root, policies: result.policies.length, diagnostics, valid };
}

/** Loads `dir`, or prints why it cannot and returns null (usage / I/O: exit 2). */
export async function loadOrReport(dir: string): Promise<LoadResult | null> {
  try {
    return await loadPolicyDir(dir);
  } catch (err) {
    if (isBulkheadError(err)) {
      process.stderr.write(`error ${err.code}: ${err.message}\n`);
      return null;
    }
    const e = err as NodeJS.ErrnoException;
    process.stderr.write(
      typeof e.code === 'string' ? `error: cannot read ${dir} (${e.code})\n` : `error: ${errorMessage(e)}\n`,
    );
    return null;
  }
}

/**
 * `bulkhead validate [dir]`: exit 0 valid, 1 invalid, 2 usage or I/O error. Made for pull
 * requests: `--output sarif` feeds GitHub code scanning.
 */
export const registerValidateCommand: CommandRegistrar = (program: Command, setExit) => {
  program
    .command('validate')
    .description('validate the policies of a policy repository (policies/**/*.yaml, bulkhead.yaml)')
    .argument('[dir]', 'policy repository root', '.')
    .addOption(
      new Option('-o, --output <format>', 'output format').choices(['human', 'json', 'sarif']).default('human'),
    )
    .option('--fail-on-warnings', 'treat warnings as errors (default: bulkhead.yaml validation.failOnWarnings)')
    .action(async (dir: string, o: { output: OutputFormat; failOnWarnings?: boolean }) => {
      const result = await loadOrReport(dir);
      if (!result) {
        setExit(EXIT.usage);
        return;
      }
      const report = buildReport(
        dir,
        result,
        o.failOnWarnings === undefined ? {} : { failOnWarnings: o.failOnWarnings },
      );
      const text =
        o.output === 'json'
          ? formatReportJson(report)
          : o.output === 'sarif'
            ? formatReportSarif(report, await toolVersion())
            : formatReportHuman(report);
      process.stdout.write(text);
      setExit(report.valid ? EXIT.ok : EXIT.invalid);
    });
};
