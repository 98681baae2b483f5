/** Runs the language server on stdio: `npx tsx src/lsp/main.ts --stdio` (what `sensei lsp` starts). */
import { startLanguageServer } from './server.ts';

startLanguageServer();
