// `npx tsx tools/stage-surface.ts [--list]`: how wide each stage's index.ts is. For every name a
// stage index (and core/api's) exports, who imports it (by the declaration it resolves to, so
// an import of the file itself counts too): code outside the folder (the contract), tests
// outside the folder only, or nobody outside (internal: it should not be in the index).
// ADR 0802; the dependency rule keeps other folders from reaching past the index.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

// Every folder of engine/src with an index.ts is a stage, but runtime/ (the wiring: ADR 0800).
const INDEXES = [
  ...readdirSync('engine/src', { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name !== 'runtime' && existsSync(`engine/src/${d.name}/index.ts`))
    .map((d) => `engine/src/${d.name}/index.ts`),
  'engine/src/core/api/index.ts',
];

const root = process.cwd();
const rel = (f: string): string => path.relative(root, f);
const config = ts.getParsedCommandLineOfConfigFile(
  path.join(root, 'tsconfig.json'),
  {},
  {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => console.error(ts.flattenDiagnosticMessageText(d.messageText, '\n')),
  },
);
if (!config) process.exit(2);
const program = ts.createProgram(config.fileNames, config.options);
const checker = program.getTypeChecker();

/** Where a symbol is really declared, through every re-export. */
function declarationKey(symbol: ts.Symbol): string {
  let s = symbol;
  while (s.flags & ts.SymbolFlags.Alias) s = checker.getAliasedSymbol(s);
  const file = s.declarations?.[0]?.getSourceFile().fileName;
  return `${file ? rel(file) : '?'}#${s.name}`;
}

// declaration → the files that import it (named imports and re-exports).
const importers = new Map<string, Set<string>>();
for (const sf of program.getSourceFiles()) {
  const file = rel(sf.fileName);
  if (file.startsWith('node_modules') || file.startsWith('..')) continue;
  for (const st of sf.statements) {
    let names: readonly ts.ImportSpecifier[] | readonly ts.ExportSpecifier[] = [];
    if (
      ts.isImportDeclaration(st) &&
      st.importClause?.namedBindings &&
      ts.isNamedImports(st.importClause.namedBindings)
    )
      names = st.importClause.namedBindings.elements;
    else if (ts.isExportDeclaration(st) && st.moduleSpecifier && st.exportClause && ts.isNamedExports(st.exportClause))
      names = st.exportClause.elements;
    for (const n of names) {
      const symbol = checker.getSymbolAtLocation(n.name);
      if (!symbol) continue;
      const key = declarationKey(symbol);
      (importers.get(key) ?? importers.set(key, new Set()).get(key)!).add(file);
    }
  }
}

const isTest = (f: string): boolean => f.endsWith('.test.ts') || /^(test|bench)\//.test(f);
const list = process.argv.includes('--list');
const totals = { exported: 0, internal: 0, testsOnly: 0 };
for (const index of INDEXES) {
  const sf = program.getSourceFile(path.join(root, index));
  const moduleSymbol = sf && checker.getSymbolAtLocation(sf);
  if (!moduleSymbol) continue;
  const folder = index.startsWith('engine/src/core/') ? 'engine/src/core/' : `${path.dirname(index)}/`;
  const rows = checker.getExportsOfModule(moduleSymbol).map((exp) => {
    const outside = [...(importers.get(declarationKey(exp)) ?? [])].filter((f) => !f.startsWith(folder));
    const kind = outside.length === 0 ? 'internal' : outside.every(isTest) ? 'tests-only' : 'contract';
    return { name: exp.name, kind, outside };
  });
  const internal = rows.filter((r) => r.kind === 'internal').length;
  const testsOnly = rows.filter((r) => r.kind === 'tests-only').length;
  totals.exported += rows.length;
  totals.internal += internal;
  totals.testsOnly += testsOnly;
  console.log(`${index}: ${rows.length} exported, ${internal} internal, ${testsOnly} used outside by tests only`);
  if (list) for (const r of rows) console.log(`  ${r.kind.padEnd(10)} ${r.name}  ${r.outside.join(' ')}`);
}
console.log(
  `total: ${totals.exported} exported, ${totals.internal} internal, ${totals.testsOnly} used outside by tests only`,
);
