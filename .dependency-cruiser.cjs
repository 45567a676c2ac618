// One-way flow (DESIGN.md), in layers from the bottom up:
//   core/      imports nothing of the layers above it
//   stages     (the list below, in pipeline order) import core/ and earlier stages only
//   runtime/   wires the stages into the running engine: may import every stage and core/
//   cli/       parses flags and calls runtime/ or a stage; nothing imports cli/
// tools/ (dev tooling, not shipped) sits beside all of them: nothing in engine/ imports it.
// Outside a stage, only runtime/ and tests reach past the stage's index.ts.
// test/lint/dependency-rule.test.ts runs these rules on fixtures, so a rule that stops
// catching a forbidden import fails the unit run.
const stages = [
  'source',
  'policy',
  'plan',
  'apply',
  'admission',
  'observe',
  'export',
  'analytics',
  'quarantine',
  'receivers',
  'audit',
  'dashboard',
];

const laterThan = (i) => stages.slice(i + 1);
const stageRules = stages.map((stage, i) => ({
  name: `${stage}-imports-only-earlier-stages`,
  comment: `${stage}/ may import core/ and earlier stages, never ${laterThan(i).join(', ') || '(none later)'}`,
  severity: 'error',
  from: { path: `^engine/src/${stage}/` },
  to: { path: `^engine/src/(${laterThan(i).join('|') || '(?!)'})/` },
}));

// A stage's index.ts is its contract: the later stages, cli/ and tools/ import the stage through
// it, never a file behind it. runtime/ (the wiring) and tests may import files. (An earlier
// stage importing a later one is already the rule above.)
const indexRules = stages.map((stage, i) => ({
  name: `${stage}-imported-through-its-index`,
  comment: `outside ${stage}/, import what it offers from ${stage}/index.ts (tests and runtime/ may import its files)`,
  severity: 'error',
  from: {
    path: `^(engine/src/(${[...laterThan(i), 'cli'].join('|')})/|tools/)`,
    pathNot: '\\.test\\.ts$',
  },
  to: { path: `^engine/src/${stage}/`, pathNot: `^engine/src/${stage}/index\\.ts$` },
}));

module.exports = {
  forbidden: [
    ...stageRules,
    ...indexRules,
    {
      name: 'stage-imports-no-runtime',
      comment: 'runtime/ wires the stages; a stage reaching up into it would turn the flow around',
      severity: 'error',
      from: { path: `^engine/src/(${stages.join('|')})/` },
      to: { path: '^engine/src/runtime/' },
    },
    {
      name: 'core-imports-nothing-of-the-stages',
      comment: 'core/ is the bottom layer',
      severity: 'error',
      from: { path: '^engine/src/core/' },
      to: { path: `^engine/src/(${[...stages, 'runtime', 'cli'].join('|')})/` },
    },
    {
      name: 'nothing-imports-cli',
      comment: 'cli/ parses flags and calls runtime/ or a stage; nothing (runtime/ included) depends on it',
      severity: 'error',
      from: { path: '^engine/src/', pathNot: '^engine/src/(cli/|main\\.ts)' },
      to: { path: '^engine/src/cli/' },
    },
    {
      name: 'nothing-shipped-imports-tools',
      comment:
        'tools/ (local cluster, demo, standalone serve) is dev tooling outside the image; engine and sidecar never import it',
      severity: 'error',
      from: { path: '^(engine|sidecar)/src/' },
      to: { path: '^tools/' },
    },
    {
      name: 'sidecar-is-standalone',
      comment: 'the sidecar ships as one small bundle: node built-ins only, nothing from the engine',
      severity: 'error',
      from: { path: '^sidecar/src/' },
      to: { pathNot: '^(sidecar/src/|node:)', dependencyTypesNot: ['core'] },
    },
    {
      name: 'dashboard-browser-imports-nothing-but-itself',
      comment:
        'dashboard/browser/ runs in the browser (bundled by npm run gen): it imports only itself and the JSON types of dashboard/view-model.ts, never engine or node code',
      severity: 'error',
      from: { path: '^engine/src/dashboard/browser/' },
      to: { pathNot: '^engine/src/dashboard/(browser/|view-model\\.ts$)' },
    },
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
      extensions: ['.ts', '.js', '.mjs'],
    },
    exclude: { path: 'node_modules' },
  },
};
