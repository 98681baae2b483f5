/**
 * The protocol's lifecycle rules, applied to every incoming message before
 * any handler sees it: before `initialize` a request is refused with
 * ServerNotInitialized (−32002) and a notification other than `exit` is
 * dropped; after `shutdown` a request is refused with InvalidRequest; a
 * second `initialize` is refused too. (`exit` itself ends the process with 0
 * after `shutdown` and 1 otherwise, which vscode-languageserver does.)
 */
import {
  ErrorCodes, Message, ResponseError, type Connection, type MessageStrategy,
} from 'vscode-languageserver/node';

/**
 * A message strategy can pass a message on but not answer it, so a refused
 * request goes on renamed to this method, whose handler throws the refusal.
 * Clients cannot reach it: their messages pass the gate first.
 */
const REFUSED = '$/sensei/refused';
type Handled = ReturnType<MessageStrategy['handleMessage']>;
interface Refusal {
  code: number;
  message: string;
}

export class Lifecycle implements MessageStrategy {
  private phase: 'starting' | 'running' | 'shut down' = 'starting';

  /** Registers the handler that answers refused requests. */
  attach(connection: Connection): void {
    connection.onRequest(REFUSED, (refusal: Refusal) => {
      throw new ResponseError(refusal.code, refusal.message);
    });
  }

  handleMessage(message: Message, next: (message: Message) => Handled): Handled {
    if (Message.isRequest(message)) {
      const refusal = this.refusal(message.method);
      if (refusal) return next({ ...message, method: REFUSED, params: refusal } as Message);
      if (message.method === 'initialize') this.phase = 'running';
      if (message.method === 'shutdown') this.phase = 'shut down';
      return next(message);
    }
    if (Message.isNotification(message) && this.phase === 'starting' && message.method !== 'exit') return undefined;
    return next(message);
  }

  private refusal(method: string): Refusal | undefined {
    if (method === REFUSED) return { code: ErrorCodes.MethodNotFound, message: `unhandled method ${method}` };
    if (this.phase === 'starting' && method !== 'initialize') {
      return { code: ErrorCodes.ServerNotInitialized, message: `${method} before initialize: the server is not initialized yet` };
    }
    if (this.phase === 'running' && method === 'initialize') return { code: ErrorCodes.InvalidRequest, message: 'initialize was already received' };
    if (this.phase === 'shut down') return { code: ErrorCodes.InvalidRequest, message: `${method} after shutdown: the server only waits for exit` };
    return undefined;
  }
}
