/**
 * Chevrotain, loaded from its single-file ESM bundle. The package's entry
 * point is hundreds of small modules (lodash-es included) that take seconds
 * to load, and every CLI run, worker-free test process and language server
 * start pays for them; the bundle it ships beside them loads in milliseconds.
 * The types are the package's own.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as Chevrotain from 'chevrotain';

export type * from 'chevrotain';

const entry = createRequire(import.meta.url).resolve('chevrotain'); // …/chevrotain/lib/src/api.js
const bundle = (await import(pathToFileURL(join(dirname(entry), '..', 'chevrotain.mjs')).href)) as typeof Chevrotain;

export const { createToken, CstParser, EOF, Lexer, tokenMatcher } = bundle;
