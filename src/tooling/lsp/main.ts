/** Runs the language server on stdio: `npx tsx src/tooling/lsp/main.ts --stdio` (what `sensei lsp` starts). */
import { startLanguageServer } from './server.ts';

startLanguageServer();
