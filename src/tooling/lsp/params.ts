/**
 * Request parameters checked before a handler reads them: a request missing
 * one is answered InvalidParams (−32602) naming it, as the JSON-RPC
 * specification asks, instead of failing inside the handler.
 */
import { ErrorCodes, ResponseError } from 'vscode-languageserver/node';

type Kind = 'string' | 'boolean' | 'array' | 'position' | 'range';

/** The parameters a request reads, by dotted path, and what each must be. */
export type ParamShape = Readonly<Record<string, Kind>>;

export const IN_DOCUMENT: ParamShape = { 'textDocument.uri': 'string' };
export const AT_POSITION: ParamShape = { ...IN_DOCUMENT, position: 'position' };

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isPosition = (x: unknown) => isObject(x) && Number.isInteger(x.line) && Number.isInteger(x.character);

const IS: Record<Kind, (x: unknown) => boolean> = {
  string: (x) => typeof x === 'string',
  boolean: (x) => typeof x === 'boolean',
  array: Array.isArray,
  position: isPosition,
  range: (x) => isObject(x) && isPosition(x.start) && isPosition(x.end),
};

/** Throws InvalidParams for the first parameter of `shape` that is missing or of another kind. */
export function checkParams(method: string, params: unknown, shape: ParamShape): void {
  for (const [path, kind] of Object.entries(shape)) {
    const value = path.split('.').reduce<unknown>((at, key) => (isObject(at) ? at[key] : undefined), params);
    if (!IS[kind](value)) {
      throw new ResponseError(ErrorCodes.InvalidParams, `${method}: \`${path}\` is ${value === undefined ? 'missing' : `not a ${kind}`}`);
    }
  }
}
