// The project's boundaries (docs/architecture.md "Boundaries"), checked by `npm run boundaries` inside `npm test`.
// Every rule is an error; a deliberate violation fails the build (test/architecture/boundaries.test.ts proves it).
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No module may reach itself through its imports.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'renderer-only-shared',
      severity: 'error',
      comment: 'The renderer is untrusted and runs in a browser: it talks to the backend through the contract only.',
      from: { path: '^renderer/' },
      to: { path: '^(models|electron|scripts|bin|test)/' },
    },
    {
      name: 'shared-standalone',
      severity: 'error',
      comment: 'shared/ is loaded by every side (renderer, preload, main, core): it imports nothing of the project.',
      from: { path: '^shared/' },
      to: { path: '^(models|electron|renderer|scripts|bin|test)/' },
    },
    {
      name: 'shared-no-node',
      severity: 'error',
      comment: 'shared/ runs in the browser too: no Node built-ins.',
      from: { path: '^shared/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'models-below-the-app',
      severity: 'error',
      comment:
        'The core runs in Node, a CLI and a worker: it knows nothing of the app, the UI or the service contract.',
      from: { path: '^models/' },
      to: { path: '^(electron|renderer|scripts|bin|test)/|^shared/contract/' },
    },
    {
      name: 'run-below-the-stages',
      severity: 'error',
      comment:
        'models/run/ is the run-folder format: training, evaluation and the CLI use it, never the other way round (the optimizer and stride state are opaque to it).',
      from: { path: '^models/run/' },
      to: { path: '^models/(train|evaluate|cli)/' },
    },
    {
      name: 'electron-module-in-two-files',
      severity: 'error',
      comment: 'Only the Electron glue imports `electron`; everything else runs in plain Node and in the tests.',
      from: { path: '^(models|shared|renderer|electron)/', pathNot: '^electron/(main|preload)\\.ts$' },
      to: { path: '^node_modules/electron/' },
    },
    {
      name: 'electron-through-the-core-face',
      severity: 'error',
      comment: 'electron/ calls the core through its public face, models/index.ts, never a deep import.',
      from: { path: '^electron/' },
      to: { path: '^models/', pathNot: '^models/index\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|dist-electron|release|data|runs)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.depcruise.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.vue', '.js', '.mjs', '.cjs', '.json', '.d.ts'],
    },
  },
};
