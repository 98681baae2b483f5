/**
 * The Sensei extension: starts the bundled language server (dist/server.mjs,
 * which contains the whole compiler) over IPC and adds the commands its code
 * lenses invoke: `Sensei: Show Pipeline Graph`, which renders the pipeline's
 * dataflow graph as SVG in a webview, and `Run Pipeline` and `Run Tests`,
 * which run the `sensei` command (setting `sensei.command`) in a terminal.
 */
import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { COMMANDS, GRAPH_REQUEST, type GraphParams, type GraphResult, type ServerSettings } from '../../../src/tooling/lsp/protocol.ts';

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const module = context.asAbsolutePath('dist/server.mjs');
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6009'] } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ language: 'sensei' }],
    // The server asks for the file events it needs (`.sensei` and `.avsc` files) itself.
    synchronize: { configurationSection: 'sensei' },
    initializationOptions: settings(context),
  };
  client = new LanguageClient('sensei', 'Sensei', serverOptions, clientOptions);
  context.subscriptions.push(
    vscode.commands.registerCommand(COMMANDS.showGraph, (uri?: unknown) => showGraph(context, uri)),
    vscode.commands.registerCommand(COMMANDS.runPipeline, (uri?: unknown) => runInTerminal('run', uri)),
    vscode.commands.registerCommand(COMMANDS.runTests, (uri?: unknown) => runInTerminal('test', uri)),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('sensei')) void client?.sendNotification('workspace/didChangeConfiguration', { settings: { sensei: settings(context) } });
    }),
  );
  await client.start();
}

export function deactivate(): Thenable<void> | undefined {
  return client?.stop();
}

function settings(context: vscode.ExtensionContext): ServerSettings {
  const config = vscode.workspace.getConfiguration('sensei');
  const docsUrl = config.get<string>('docsUrl') || vscode.Uri.joinPath(context.extensionUri, 'docs', 'diagnostics.md').toString();
  return { diagnosticsDelay: config.get<number>('diagnosticsDelay', 200), docsUrl };
}

/** The pipeline a command is for: the URI a code lens passes, else the active editor's. */
function pipelineOf(uri: unknown): vscode.Uri | undefined {
  if (typeof uri === 'string') return vscode.Uri.parse(uri);
  if (uri instanceof vscode.Uri) return uri;
  const editor = vscode.window.activeTextEditor;
  return editor?.document.languageId === 'sensei' ? editor.document.uri : undefined;
}

/** `sensei run FILE` or `sensei test FILE` in a terminal, from the file's workspace folder. */
function runInTerminal(subcommand: 'run' | 'test', uri: unknown): void {
  const pipeline = pipelineOf(uri);
  if (!pipeline) {
    void vscode.window.showInformationMessage('Open a .sensei file to run it.');
    return;
  }
  const command = vscode.workspace.getConfiguration('sensei').get<string>('command') || 'npx sensei';
  const cwd = vscode.workspace.getWorkspaceFolder(pipeline)?.uri ?? vscode.Uri.joinPath(pipeline, '..');
  const terminal = vscode.window.createTerminal({ name: `Sensei: ${subcommand} ${pipeline.path.split('/').pop()}`, cwd });
  terminal.show();
  terminal.sendText(`${command} ${subcommand} "${pipeline.fsPath}"`);
}

let panel: vscode.WebviewPanel | undefined;
let shown: vscode.Uri | undefined;

async function showGraph(context: vscode.ExtensionContext, uri: unknown): Promise<void> {
  const pipeline = pipelineOf(uri);
  if (!pipeline) {
    void vscode.window.showInformationMessage('Open a .sensei file to see its pipeline graph.');
    return;
  }
  shown = pipeline;
  if (!panel) {
    panel = vscode.window.createWebviewPanel('senseiGraph', 'Pipeline graph', vscode.ViewColumn.Beside, { enableScripts: false });
    panel.onDidDispose(() => (panel = undefined), undefined, context.subscriptions);
    // Follow the pipeline as it is saved.
    context.subscriptions.push(vscode.workspace.onDidSaveTextDocument((doc) => {
      if (panel && shown && doc.uri.toString() === shown.toString()) void render(doc.uri);
    }));
  } else {
    panel.reveal(vscode.ViewColumn.Beside, true);
  }
  await render(shown);
}

async function render(uri: vscode.Uri): Promise<void> {
  if (!panel || !client) return;
  panel.title = `Graph: ${uri.path.split('/').pop()}`;
  const params: GraphParams = { textDocument: { uri: uri.toString() } };
  const result = await client.sendRequest<GraphResult>(GRAPH_REQUEST, params);
  const body = result.svg ?? `<p class="error">${escapeHtml(result.error ?? 'no graph')}</p>`;
  panel.webview.html = `<!DOCTYPE html>
<html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:;">
<style>
  body { background: var(--vscode-editor-background); color: var(--vscode-editor-foreground); }
  svg { max-width: 100%; height: auto; background: white; border-radius: 4px; }
  .error { color: var(--vscode-errorForeground); }
</style></head>
<body>${body}</body></html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
