// @ts-check
/**
 * The layers of docs/architecture.md, held on every import of src/ (type-only imports included): `npm run
 * lint:deps`, the first step of `npm test`. A layer imports from its own folder or from the layers below it;
 * folders of one layer do not import each other; no file is part of an import cycle; the core uses no Node module.
 * test/architecture.test.ts checks the same layers with a few lines of its own (and the file table of the page).
 */

/** Bottom first. Each entry is one layer: the folders (or root files) in it, as path regexes under src/. */
const LAYERS = [
  { name: 'shared types and errors', paths: ['src/types\\.ts$', 'src/errors\\.ts$'] },
  { name: 'base', paths: ['src/base/'] },
  { name: 'dedup and stats', paths: ['src/dedup/', 'src/stats/'] },
  { name: 'internal (the engine)', paths: ['src/internal/'] },
  { name: 'operators and batcher', paths: ['src/operators/', 'src/batcher/', 'src/store/'] },
  { name: 'entry points of the core', paths: ['src/index\\.ts$', 'src/lite/'] },
  { name: 'integrations', paths: ['src/nestjs/', 'src/otel/', 'src/testing/', 'src/redis/'] },
];

const anchored = (paths) => paths.map((p) => `^${p}`);

/** @type {import('dependency-cruiser').IForbiddenRuleType[]} */
const upward = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `no-upward-from-${layer.name.replace(/\W+/g, '-')}`,
  comment: `${layer.name} may import only from its own layer or below (docs/architecture.md, "Layers")`,
  severity: 'error',
  from: { path: anchored(layer.paths) },
  to: { path: LAYERS.slice(i + 1).flatMap((above) => anchored(above.paths)) },
}));

/** Folders of one layer stay apart: each may import only from itself and from the layers below. */
/** @type {import('dependency-cruiser').IForbiddenRuleType[]} */
const sideways = LAYERS.flatMap((layer) =>
  layer.paths.length < 2
    ? []
    : layer.paths.map((own) => ({
        name: `no-sideways-from-${own.replace(/\W+/g, '-').replace(/-+$/, '')}`,
        comment: `${own} and the other folders of the layer "${layer.name}" do not import each other`,
        severity: 'error',
        from: { path: `^${own}` },
        to: { path: anchored(layer.paths.filter((other) => other !== own)) },
      })),
);

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No file takes part in an import cycle, type-only imports included',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...upward,
    ...sideways,
    {
      name: 'no-node-builtins-in-core',
      comment: 'The core runs anywhere RxJS runs: only src/nestjs and src/otel may use Node modules',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(nestjs|otel)/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'no-unresolvable',
      comment: 'An import the checker cannot follow would escape every rule above',
      severity: 'error',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
    {
      name: 'in-a-layer',
      comment: 'Every source file belongs to a layer: add a new folder to LAYERS here and to docs/architecture.md',
      severity: 'error',
      from: { path: '^src/', pathNot: LAYERS.flatMap((layer) => anchored(layer.paths)) },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // ml-distance has an `exports` map with a plain string: the resolver needs the `default` condition for it.
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
