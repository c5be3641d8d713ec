// The workbench version, known without reading package.json at run time (a packaged app or a bundled
// worker has no package.json beside it). test/core/version.test.ts checks it equals package.json's "version".
export const VERSION = '0.1.0';
