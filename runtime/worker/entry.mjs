// Worker entry when no plain-JavaScript bundle could be built (see
// bundle.ts): register tsx so the TypeScript worker loads (Node 20
// does not apply the parent's --import hooks to a worker's entry).
import { register } from 'tsx/esm/api';

register();
const { startWorker } = await import('./worker.ts');
startWorker();
