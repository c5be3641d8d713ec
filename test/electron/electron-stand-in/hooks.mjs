// Module hook for test/electron/main.test.ts: `import ... from 'electron'` resolves to the stand-in beside
// this file (the real package has no binary here, and its index.js would try to download one).
export async function resolve(specifier, context, next) {
  if (specifier === 'electron')
    return { url: new URL('./electron.ts', import.meta.url).href, shortCircuit: true, format: 'module' };
  return next(specifier, context);
}
