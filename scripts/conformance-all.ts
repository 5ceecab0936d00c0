/**
 * `npm run conformance:all`, kept while package.json names it: the same run as `npm run
 * conformance` (scripts/conformance.ts), which is now the whole suite.
 */
await import('./conformance.js');
