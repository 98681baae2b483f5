/**
 * The Sensei extension: starts the bundled language server (dist/server.mjs,
 * which contains the whole compiler) over IPC and adds the commands its code
 * lenses invoke: `Sensei: Show Pipeline Graph`, which renders the pipeline's
 * dataflow graph as SVG in a webview (redrawn as you type, a click on a node
 * jumps to its source; src/tooling/lsp/graph-page.ts), and `Run Pipeline` and `Run Tests`,
 * which run the `sensei` command (setting `sensei.command`) in a terminal.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { COMMANDS, GRAPH_REQUEST, type GraphNode, type GraphParams, type GraphResult, type ServerSettings } from '../../../src/tooling/lsp/protocol.ts';
import { clickedNode, graphPage, type ShownGraph } from '../../../src/tooling/lsp/graph-page.ts';

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
let graph: ShownGraph | undefined;
let redraw: ReturnType<typeof setTimeout> | undefined;
/** Quiet time after a keystroke before the graph is redrawn. */
const REDRAW_DELAY_MS = 300;

async function showGraph(context: vscode.ExtensionContext, uri: unknown): Promise<void> {
  const pipeline = pipelineOf(uri);
  if (!pipeline) {
    void vscode.window.showInformationMessage('Open a .sensei file to see its pipeline graph.');
    return;
  }
  if (!panel) {
    panel = vscode.window.createWebviewPanel('senseiGraph', 'Pipeline graph', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, { enableScripts: true });
    panel.onDidDispose(() => (panel = undefined), undefined, context.subscriptions);
    // A click on a node reveals the source, operator or sink it stands for.
    panel.webview.onDidReceiveMessage((message) => void reveal(clickedNode(graph, message)), undefined, context.subscriptions);
    context.subscriptions.push(
      // Redrawn as the pipeline is edited, a moment after the typing stops.
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (!panel || !shown || e.document.uri.toString() !== shown.toString()) return;
        clearTimeout(redraw);
        redraw = setTimeout(() => void render(e.document.uri), REDRAW_DELAY_MS);
      }),
      // And follows the pipeline being edited.
      vscode.window.onDidChangeActiveTextEditor((editor) => {
        if (panel && editor?.document.languageId === 'sensei' && editor.document.uri.toString() !== shown?.toString()) void render(editor.document.uri);
      }),
    );
  } else {
    panel.reveal(vscode.ViewColumn.Beside, true);
  }
  await render(pipeline);
}

async function render(uri: vscode.Uri): Promise<void> {
  if (!panel || !client) return;
  if (uri.toString() !== shown?.toString()) graph = undefined;
  shown = uri;
  panel.title = `Graph: ${uri.path.split('/').pop()}`;
  const params: GraphParams = { textDocument: { uri: uri.toString() } };
  const result = await client.sendRequest<GraphResult>(GRAPH_REQUEST, params);
  if (!panel || uri.toString() !== shown.toString()) return;
  const page = graphPage(result, graph, randomNonce());
  graph = page.shown;
  panel.webview.html = page.html;
}

async function reveal(node: GraphNode | undefined): Promise<void> {
  if (!node) return;
  const at = new vscode.Position(node.line, node.character);
  const visible = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === node.uri);
  await vscode.window.showTextDocument(vscode.Uri.parse(node.uri), { viewColumn: visible?.viewColumn ?? vscode.ViewColumn.One, selection: new vscode.Range(at, at) });
}

function randomNonce(): string {
  return randomBytes(16).toString('hex');
}
