// Parses a Mermaid file with Mermaid's own parser (test tooling only): prints
// "valid <type>" and exits 0, or "invalid: <why>" and exits 1.
// usage: node parse.mjs FILE
import { JSDOM } from 'jsdom';
import { readFileSync } from 'fs';
const dom = new JSDOM('<!DOCTYPE html><body></body>');
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const mermaid = (await import('mermaid')).default;
const text = readFileSync(process.argv[2], 'utf8');
try {
  const r = await mermaid.parse(text);
  console.log('valid', r.diagramType);
} catch (e) {
  console.log('invalid:', String(e.message || e).split('\n').slice(0, 3).join(' '));
  process.exit(1);
}
