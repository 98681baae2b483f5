/**
 * The Sensei language server (`sensei lsp`, stdio). Every feature runs on
 * the real compiler's output for the document's current text (see
 * workspace.ts for versioning). A failing request is logged to stderr and
 * answered with an empty result: no text can take the server down.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  CodeActionKind, createConnection, DidChangeWatchedFilesNotification, ProposedFeatures, ResponseError, TextDocuments, TextDocumentSyncKind, type Connection,
  type CodeActionParams, type CompletionParams, type DefinitionParams, type DocumentFormattingParams, type DocumentSymbolParams,
  type FoldingRangeParams, type HoverParams, type InitializeParams, type InitializeResult, type Position, type PrepareRenameParams,
  type ReferenceParams, type RenameParams, type Hover, type CompletionItem, type Location, type Range, type WorkspaceEdit,
  type DocumentSymbol, type FoldingRange, type TextEdit, type CodeAction, type SemanticTokens, type SemanticTokensParams, type InlayHint,
  type InlayHintParams, type SignatureHelp, type SignatureHelpParams, type CodeLens,
  type CodeLensParams,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { builtinConnectorSpecs } from '../../../connectors/specs.ts';
import type { ConnectorSpecs } from '../../spi/spec.ts';
import { hasErrors } from '../../diagnostics/diagnostic.ts';
import { graphToSvg, svgNodeId } from '../../graph/render-graph.ts';
import { typedToPlan } from '../../lower/lower.ts';
import { Analyzer, logError, type Analysis } from './analysis.ts';
import { codeLenses } from './code-lenses.ts';
import { completionsAt } from './completion.ts';
import { toLspDiagnostics } from './diagnostics.ts';
import { codeActions, formatDocument } from './edits.ts';
import { hoverAt } from './hover.ts';
import { inlayHints } from './inlay-hints.ts';
import { Lifecycle } from './lifecycle.ts';
import { definitionAt, documentSymbols, foldingRanges, prepareRename, referencesAt, renameAt } from './navigation.ts';
import { AT_POSITION, checkParams, IN_DOCUMENT, type ParamShape } from './params.ts';
import { PathMap } from './paths.ts';
import { SEMANTIC_LEGEND, semanticTokens } from './semantic-tokens.ts';
import { signatureHelpAt } from './signature-help.ts';
import { GRAPH_REQUEST, type GraphParams, type GraphResult, type ServerSettings } from './protocol.ts';
import { Workspace } from './workspace.ts';

const DEFAULT_DELAY_MS = 200;

export interface ServerOptions {
  connectors?: ConnectorSpecs;
}

/** Starts the server on stdio, or on the transport named on the command line (--stdio, --node-ipc, --socket=N, --pipe=name). */
export function startLanguageServer(options: ServerOptions = {}): Connection {
  const named = process.argv.some((a) => /^--(stdio|node-ipc|socket=|pipe=|clientProcessId)/.test(a));
  const lifecycle = new Lifecycle();
  const strategy = { messageStrategy: lifecycle };
  const connection = named ? createConnection(ProposedFeatures.all, strategy) : createConnection(ProposedFeatures.all, process.stdin, process.stdout, strategy);
  lifecycle.attach(connection);
  const connectors = options.connectors ?? builtinConnectorSpecs();
  // The last line of defence: a bug that escapes a request's own catch is logged, and the server goes on.
  process.on('uncaughtException', (error) => logError('running (uncaught)', error));
  process.on('unhandledRejection', (error) => logError('running (unhandled rejection)', error));
  const documents = new TextDocuments(TextDocument);
  const paths = new PathMap();
  let docsUrl = defaultDocsUrl();
  const workspace = new Workspace(documents, new Analyzer(connectors), paths, {
    debounceMs: DEFAULT_DELAY_MS,
    publish: (uri, analysis) => {
      try {
        const diagnostics = toLspDiagnostics(analysis, { paths, ...(docsUrl ? { docsUrl } : {}) });
        void connection.sendDiagnostics({ uri, version: analysis.version, diagnostics });
      } catch (error) {
        logError('publishing diagnostics', error);
      }
    },
  });
  const applySettings = (s: ServerSettings | undefined) => {
    if (!s || typeof s !== 'object') return;
    if (typeof s.diagnosticsDelay === 'number' && s.diagnosticsDelay >= 0) workspace.options.debounceMs = s.diagnosticsDelay;
    if (typeof s.docsUrl === 'string' && s.docsUrl !== '') docsUrl = s.docsUrl;
  };

  /**
   * Runs a request on the current analysis. Parameters missing from `shape` are refused (InvalidParams);
   * other errors are logged and answered with `fallback`.
   */
  const onDocument = <P extends { textDocument: { uri: string } }, R>(method: string, shape: ParamShape, fallback: R, fn: (a: Analysis, p: P) => R | Promise<R>) =>
    async (params: P): Promise<R> => {
      checkParams(method, params, shape);
      try {
        const analysis = await workspace.current(params.textDocument.uri);
        return analysis ? await fn(analysis, params) : fallback;
      } catch (error) {
        if (error instanceof ResponseError) throw error; // a refusal meant for the user (an invalid new name)
        logError(method, error);
        return fallback;
      }
    };
  const offsetOf = (a: Analysis, p: Position) => {
    const doc = documents.all().find((d) => d.version === a.version && paths.pathOf(d.uri) === a.path);
    return (doc ?? TextDocument.create('', 'sensei', a.version, a.text)).offsetAt(p);
  };

  let watchFiles = false;
  connection.onInitialize((params: InitializeParams): InitializeResult => {
    applySettings(params.initializationOptions as ServerSettings | undefined);
    const folders = params.workspaceFolders?.map((f) => f.uri) ?? (params.rootUri ? [params.rootUri] : []);
    workspace.index.scan(folders.map((uri) => paths.pathOf(uri)));
    watchFiles = params.capabilities.workspace?.didChangeWatchedFiles?.dynamicRegistration === true;
    return {
      capabilities: {
        textDocumentSync: TextDocumentSyncKind.Incremental,
        hoverProvider: true,
        completionProvider: { triggerCharacters: ['.', '|'] },
        definitionProvider: true,
        referencesProvider: true,
        renameProvider: { prepareProvider: true },
        documentSymbolProvider: true,
        foldingRangeProvider: true,
        documentFormattingProvider: true,
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
        semanticTokensProvider: { legend: SEMANTIC_LEGEND, full: true },
        inlayHintProvider: true,
        codeLensProvider: { resolveProvider: false },
        signatureHelpProvider: { triggerCharacters: ['(', ','], retriggerCharacters: [')'] },
      },
      serverInfo: { name: 'sensei' },
    };
  });
  connection.onInitialized(() => {
    // Imports and .avsc schemas are read from disk: a change there can change any pipeline's diagnostics, and the index.
    const watchers = [{ globPattern: '**/*.sensei' }, { globPattern: '**/*.avsc' }];
    if (watchFiles) void connection.client.register(DidChangeWatchedFilesNotification.type, { watchers }).catch((error) => logError('watching files', error));
  });
  connection.onDidChangeConfiguration((change) => {
    applySettings((change.settings as { sensei?: ServerSettings } | undefined)?.sensei);
  });

  documents.onDidChangeContent((e) => workspace.changed(e.document.uri));
  documents.onDidClose((e) => {
    workspace.closed(e.document.uri);
    void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
  });
  connection.onDidChangeWatchedFiles((p) => workspace.filesChanged((p?.changes ?? []).map((c) => paths.pathOf(c.uri))));

  connection.onHover(onDocument<HoverParams, Hover | null>('textDocument/hover', AT_POSITION, null, (a, p) => hoverAt(a, offsetOf(a, p.position), connectors)));
  connection.onCompletion(onDocument<CompletionParams, CompletionItem[]>('textDocument/completion', AT_POSITION, [], (a, p) => completionsAt(a, offsetOf(a, p.position), connectors)));
  connection.onDefinition(onDocument<DefinitionParams, Location | null>('textDocument/definition', AT_POSITION, null, (a, p) => definitionAt(a, offsetOf(a, p.position), paths)));
  connection.onReferences(onDocument<ReferenceParams, Location[]>('textDocument/references', { ...AT_POSITION, 'context.includeDeclaration': 'boolean' }, [], async (a, p) =>
    referencesAt(a, offsetOf(a, p.position), paths, p.context.includeDeclaration, await workspace.importers(p.textDocument.uri))));
  connection.onPrepareRename(onDocument<PrepareRenameParams, { range: Range; placeholder: string } | null>('textDocument/prepareRename', AT_POSITION, null, (a, p) => prepareRename(a, offsetOf(a, p.position))));
  connection.onRenameRequest(onDocument<RenameParams, WorkspaceEdit | null>('textDocument/rename', { ...AT_POSITION, newName: 'string' }, null, async (a, p) =>
    renameAt(a, offsetOf(a, p.position), p.newName, paths, await workspace.importers(p.textDocument.uri))));
  connection.onDocumentSymbol(onDocument<DocumentSymbolParams, DocumentSymbol[]>('textDocument/documentSymbol', IN_DOCUMENT, [], (a) => documentSymbols(a)));
  connection.onFoldingRanges(onDocument<FoldingRangeParams, FoldingRange[]>('textDocument/foldingRange', IN_DOCUMENT, [], (a) => foldingRanges(a)));
  connection.onDocumentFormatting(onDocument<DocumentFormattingParams, TextEdit[]>('textDocument/formatting', IN_DOCUMENT, [], (a) => formatDocument(a)));
  connection.onCodeAction(onDocument<CodeActionParams, CodeAction[]>('textDocument/codeAction', { ...IN_DOCUMENT, range: 'range', 'context.diagnostics': 'array' }, [], (a, p) =>
    codeActions(a, p, paths, docsUrl)));
  connection.languages.semanticTokens.on(onDocument<SemanticTokensParams, SemanticTokens>('textDocument/semanticTokens/full', IN_DOCUMENT, { data: [] }, (a) => semanticTokens(a)));
  connection.languages.inlayHint.on(onDocument<InlayHintParams, InlayHint[]>('textDocument/inlayHint', { ...IN_DOCUMENT, range: 'range' }, [], (a, p) => inlayHints(a, p.range)));
  connection.onSignatureHelp(onDocument<SignatureHelpParams, SignatureHelp | null>('textDocument/signatureHelp', AT_POSITION, null, (a, p) => signatureHelpAt(a, offsetOf(a, p.position))));
  connection.onCodeLens(onDocument<CodeLensParams, CodeLens[]>('textDocument/codeLens', IN_DOCUMENT, [], (a, p) => codeLenses(a, p.textDocument.uri)));
  connection.onRequest(GRAPH_REQUEST, onDocument<GraphParams, GraphResult>(GRAPH_REQUEST, IN_DOCUMENT, { error: 'internal error' }, async (a): Promise<GraphResult> => {
    if (!a.typed || hasErrors(a.diagnostics)) return { error: 'the pipeline has errors; fix them to see its graph' };
    const plan = typedToPlan(a.typed);
    // Plan locations are 1-based lines and columns of UTF-16 units; LSP positions count from 0.
    const nodes = plan.graph.nodes.map((n, i) => ({ id: svgNodeId(i), label: n.label, uri: paths.uriOf(n.location.file), line: n.location.line - 1, character: n.location.column - 1 }));
    return { svg: await graphToSvg(plan.graph, { name: plan.pipeline }), nodes };
  }));

  documents.listen(connection);
  connection.listen();
  return connection;
}

/** The repository's docs/diagnostics.md, seen from this file (the bundled extension passes its own copy as `docsUrl`). */
function defaultDocsUrl(): string | undefined {
  try {
    return pathToFileURL(resolve(dirname(fileURLToPath(import.meta.url)), '../../../docs/diagnostics.md')).href;
  } catch {
    return undefined; // import.meta.url is not a file URL (an unusual bundle): no links
  }
}
