// A whole editing session against `pipec lsp` through Microsoft's client
// libraries (vscode-languageserver-protocol over vscode-jsonrpc): open, edit
// into an error, fix it with the quick fix, rename, format, shut down.
// Prints one line per step for FileCheck. Usage: node session.js PIPEC FILE
'use strict';
const cp = require('child_process');
const fs = require('fs');
const lsp = require('vscode-languageserver-protocol/node');

const [pipec, file] = process.argv.slice(2);
const uri = 'file://' + file;
let text = fs.readFileSync(file, 'utf8');
let version = 1;

function offsetAt(t, pos) {
  const lines = t.split('\n');
  let off = 0;
  for (let i = 0; i < pos.line && i < lines.length; i++) off += lines[i].length + 1;
  return Math.min(off + pos.character, t.length);
}
function applyEdits(t, edits) {
  const sorted = edits.slice().sort((a, b) => offsetAt(t, b.range.start) - offsetAt(t, a.range.start));
  for (const e of sorted)
    t = t.slice(0, offsetAt(t, e.range.start)) + e.newText + t.slice(offsetAt(t, e.range.end));
  return t;
}

// Never wait for ever: a missing answer fails the test.
const watchdog = setTimeout(() => {
  console.log('timeout: the server did not answer');
  process.exit(1);
}, 60000);

async function main() {
  const server = cp.spawn(pipec, ['lsp', '--debounce-ms', '0'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => server.on('exit', (code) => resolve(code)));
  // The protocol connection runs over vscode-jsonrpc's stream reader/writer.
  const conn = lsp.createProtocolConnection(
    new lsp.StreamMessageReader(server.stdout), new lsp.StreamMessageWriter(server.stdin));
  const waiting = [];
  conn.onNotification(lsp.PublishDiagnosticsNotification.type, (p) => {
    if (p.uri !== uri) return;
    const i = waiting.findIndex((w) => w.version === p.version);
    if (i >= 0) waiting.splice(i, 1)[0].resolve(p.diagnostics);
  });
  conn.listen();
  const diagnosticsOf = (v) => new Promise((resolve) => waiting.push({ version: v, resolve }));
  const show = (what, diags) =>
    console.log(what + ': ' + (diags.length ? diags.map((d) => `${d.range.start.line}:${d.range.start.character} ${d.code} ${d.message}`).join('; ') : 'clean'));
  const change = async (newText) => {
    text = newText;
    version += 1;
    const d = diagnosticsOf(version);
    await conn.sendNotification(lsp.DidChangeTextDocumentNotification.type,
      { textDocument: { uri, version }, contentChanges: [{ text }] });
    return d;
  };

  const init = await conn.sendRequest(lsp.InitializeRequest.type,
    { processId: process.pid, rootUri: null, capabilities: {} });
  console.log('encoding: ' + init.capabilities.positionEncoding);
  await conn.sendNotification(lsp.InitializedNotification.type, {});
  let d = diagnosticsOf(1);
  await conn.sendNotification(lsp.DidOpenTextDocumentNotification.type,
    { textDocument: { uri, languageId: 'pipe', version: 1, text } });
  show('open', await d);

  // An incremental edit: `s.clean` becomes `s.cleen`.
  const at = text.indexOf('(raw: s.clean') + 11;
  const line = text.slice(0, at).split('\n').length - 1;
  const col = at - text.lastIndexOf('\n', at - 1) - 1;
  version += 1;
  d = diagnosticsOf(version);
  text = text.slice(0, at) + 'e' + text.slice(at + 1);
  await conn.sendNotification(lsp.DidChangeTextDocumentNotification.type, {
    textDocument: { uri, version },
    contentChanges: [{ range: { start: { line, character: col }, end: { line, character: col + 1 } }, text: 'e' }],
  });
  const broken = await d;
  show('edit', broken);

  const actions = await conn.sendRequest(lsp.CodeActionRequest.type, {
    textDocument: { uri }, range: broken[0].range, context: { diagnostics: broken },
  });
  console.log('quickfix: ' + actions.map((a) => a.title).join(', '));
  show('fixed', await change(applyEdits(text, actions[0].edit.changes[uri])));

  const raw = text.indexOf('raw: data');
  const rline = text.slice(0, raw).split('\n').length - 1;
  const rcol = raw - text.lastIndexOf('\n', raw - 1) - 1;
  const edit = await conn.sendRequest(lsp.RenameRequest.type,
    { textDocument: { uri }, position: { line: rline, character: rcol + 1 }, newName: 'source' });
  console.log('rename: ' + edit.changes[uri].length + ' edits');
  show('renamed', await change(applyEdits(text, edit.changes[uri])));
  console.log('uses of source: ' + (text.match(/\bsource\b/g) || []).length);

  await change(text.replace('  in source: folder', '      in   source:   folder'));
  const fmt = await conn.sendRequest(lsp.DocumentFormattingRequest.type,
    { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } });
  text = applyEdits(text, fmt);
  console.log('formatted: ' + JSON.stringify(text.split('\n')[2]));

  await conn.sendRequest(lsp.ShutdownRequest.type);
  await conn.sendNotification(lsp.ExitNotification.type);
  console.log('exit ' + (await exited));
  conn.dispose();
  clearTimeout(watchdog);
}

main().catch((e) => {
  console.log('failed: ' + (e && e.stack ? e.stack : e));
  process.exit(1);
});
