// The VS Code client: starts `pipec lsp` for .pipe files and pipeline and
// component YAML.
'use strict';
const vscode = require('vscode');
const { LanguageClient } = require('vscode-languageclient/node');

let client;

function activate(context) {
  const config = vscode.workspace.getConfiguration('pipec');
  const command = config.get('path', 'pipec');
  const args = ['lsp', ...config.get('arguments', [])];
  client = new LanguageClient('pipec', 'pipec', { command, args }, {
    documentSelector: [
      { scheme: 'file', language: 'pipe' },
      { scheme: 'file', language: 'yaml' },
    ],
    synchronize: {
      fileEvents: vscode.workspace.createFileSystemWatcher('**/*.{pipe,yaml,yml}'),
    },
  });
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
