/**
 * The grammar of .sensei files as a Chevrotain CST parser with error
 * recovery. `src/syntax/parse.ts` turns the CST into the AST; the rules here
 * only describe the shape of the text. Labels name the children the
 * converter reads.
 *
 * Precedence, lowest to highest: `if`/`case`, `??`, `or`, `and`, `not`,
 * comparisons (`== != < <= > >= like matches in between`), `+ -`, `* / %`,
 * unary `-`, postfix (`.` `?.` `[]` call).
 */
import { CstParser, type IParserErrorMessageProvider, type IToken, type TokenType, tokenMatcher } from './chevrotain.ts';
import * as T from './tokens.ts';

const { Kw } = T;

const Decl = T.DeclarationKeyword;

/**
 * How deep expressions and types may nest: brackets, `if`/`case` branches,
 * `not` and `-` chains, nested types. Each level costs the parser about a
 * dozen rule calls on the call stack, so a few hundred levels would exhaust
 * it; 64 leaves a wide margin in every caller (CLI, language server, tests).
 */
export const MAX_NESTING = 64;

/** Thrown where nesting passes MAX_NESTING; `parse.ts` reports it and parses on at the next declaration. */
export class NestingTooDeep extends Error {
  override name = 'NestingTooDeep';
  constructor(
    readonly token: IToken,
    readonly what: 'expression' | 'type',
  ) {
    super(`nesting deeper than ${MAX_NESTING} levels`);
  }
}

export class SenseiParser extends CstParser {
  /**
   * True while parsing the value of a `name: expr` select item outside any
   * brackets: there a `-` or `*` that starts a line begins the next item
   * (`-secret`, `*`) instead of continuing the expression.
   */
  private lineEndsSelectValue = false;

  /** Levels of nesting open at the current token (see MAX_NESTING). */
  private depth = 0;

  /**
   * Rule bodies run on every parse; their alternatives are built once and
   * reused (Chevrotain's advice for speed; it also spares the allocations).
   */
  private readonly built = new Map<string, unknown>();

  private once<V>(key: string, build: () => V): V {
    let value = this.built.get(key) as V | undefined;
    if (value === undefined) {
      value = build();
      this.built.set(key, value);
    }
    return value;
  }

  constructor(errorMessageProvider?: IParserErrorMessageProvider) {
    super(T.allTokens, {
      recoveryEnabled: true,
      maxLookahead: 3,
      nodeLocationTracking: 'onlyOffset',
      ...(errorMessageProvider ? { errorMessageProvider } : {}),
    });
    this.performSelfAnalysis();
  }

  // ---------------------------------------------------------------- declarations

  sourceFile = this.RULE('sourceFile', () => {
    this.MANY(() => this.SUBRULE(this.declaration, { LABEL: 'declarations' }));
  });

  declaration = this.RULE('declaration', () => {
    this.OR(this.once('declaration', () => [
      { ALT: () => this.SUBRULE(this.pipelineDecl) },
      { ALT: () => this.SUBRULE(this.importDecl) },
      { ALT: () => this.SUBRULE(this.schemaDecl) },
      { ALT: () => this.SUBRULE(this.sourceDecl) },
      { ALT: () => this.SUBRULE(this.streamDecl) },
      { ALT: () => this.SUBRULE(this.sinkDecl) },
      { ALT: () => this.SUBRULE(this.deadLetterDecl) },
    ]));
  });

  pipelineDecl = this.RULE('pipelineDecl', () => {
    this.CONSUME(Decl.pipeline);
    this.CONSUME(T.Name, { LABEL: 'name' });
  });

  importDecl = this.RULE('importDecl', () => {
    this.CONSUME(Decl.import);
    this.CONSUME(T.StringLiteral, { LABEL: 'path' });
  });

  schemaDecl = this.RULE('schemaDecl', () => {
    this.CONSUME(Decl.schema);
    this.CONSUME(T.Name, { LABEL: 'name' });
    this.SUBRULE(this.docClause);
    this.OR(this.once('schemaDecl', () => [
      {
        ALT: () => {
          this.CONSUME(T.Equals);
          this.CONSUME(Kw.avro);
          this.CONSUME(T.StringLiteral, { LABEL: 'path' });
        },
      },
      { ALT: () => this.SUBRULE(this.recordBody) },
    ]));
  });

  /**
   * Optional `doc "..."`; a rule of its own so every declaration reads it the
   * same way. `doc` followed by `:` is the next field's name (`raw: bytes`
   * then `doc: string`), never a doc.
   */
  docClause = this.RULE('docClause', () => {
    this.OPTION(this.once('docClause', () => ({
      GATE: () => !tokenMatcher(this.LA(2), T.Colon),
      DEF: () => {
        this.CONSUME(Kw.doc);
        this.CONSUME(T.StringLiteral, { LABEL: 'text' });
      },
    })));
  });

  recordBody = this.RULE('recordBody', () => {
    this.CONSUME(T.LCurly);
    this.MANY(() => {
      this.SUBRULE(this.fieldDecl, { LABEL: 'fields' });
      this.OPTION(() => this.CONSUME(T.Comma));
    });
    this.CONSUME(T.RCurly);
  });

  fieldDecl = this.RULE('fieldDecl', () => {
    this.CONSUME(T.AnyName, { LABEL: 'name' });
    this.CONSUME(T.Colon);
    this.SUBRULE(this.typeExpr, { LABEL: 'type' });
    this.OPTION(() => {
      this.CONSUME(T.Equals);
      this.SUBRULE(this.expression, { LABEL: 'default' });
    });
    this.SUBRULE(this.docClause);
  });

  typeExpr = this.RULE('typeExpr', () => {
    this.deeper('type', () => {
      this.SUBRULE(this.baseType, { LABEL: 'base' });
      this.OPTION(() => this.CONSUME(T.Question, { LABEL: 'nullable' }));
    });
  });

  baseType = this.RULE('baseType', () => {
    this.OR(this.once('baseType', () => ({
      // Type keywords are soft (a field may be called `map`), so the keyword alternatives come first.
      IGNORE_AMBIGUITIES: true,
      DEF: [
        {
          ALT: () => {
            this.CONSUME(Kw.record, { LABEL: 'record' });
            this.CONSUME(T.Name, { LABEL: 'name' });
            this.SUBRULE(this.recordBody);
          },
        },
        {
          ALT: () => {
            this.CONSUME(Kw.enum, { LABEL: 'enum' });
            this.CONSUME2(T.Name, { LABEL: 'name' });
            this.CONSUME(T.LCurly);
            this.MANY(() => {
              this.CONSUME(T.AnyName, { LABEL: 'symbols' });
              this.OPTION(() => this.CONSUME(T.Comma));
            });
            this.CONSUME(T.RCurly);
          },
        },
        {
          ALT: () => {
            this.CONSUME(Kw.fixed, { LABEL: 'fixed' });
            this.CONSUME3(T.Name, { LABEL: 'name' });
            this.CONSUME(T.LParen);
            this.CONSUME(T.NumberLiteral, { LABEL: 'size' });
            this.CONSUME(T.RParen);
          },
        },
        {
          ALT: () => {
            this.CONSUME(Kw.decimal, { LABEL: 'decimal' });
            this.CONSUME2(T.LParen);
            this.CONSUME2(T.NumberLiteral, { LABEL: 'precision' });
            this.CONSUME2(T.Comma);
            this.CONSUME3(T.NumberLiteral, { LABEL: 'scale' });
            this.CONSUME2(T.RParen);
          },
        },
        {
          ALT: () => {
            this.CONSUME(Kw.array, { LABEL: 'array' });
            this.CONSUME(T.Less);
            this.SUBRULE(this.typeExpr, { LABEL: 'items' });
            this.CONSUME(T.Greater);
          },
        },
        {
          ALT: () => {
            this.CONSUME(Kw.map, { LABEL: 'map' });
            this.CONSUME2(T.Less);
            this.SUBRULE2(this.typeExpr, { LABEL: 'values' });
            this.CONSUME2(T.Greater);
          },
        },
        { ALT: () => this.CONSUME(Kw.null, { LABEL: 'null' }) },
        // `source s: from x` lacks its type; `from` is not read as one (a type named `from` needs backticks).
        { GATE: () => !tokenMatcher(this.LA(1), Kw.from), ALT: () => this.CONSUME4(T.Name, { LABEL: 'named' }) },
      ],
    })));
  });

  sourceDecl = this.RULE('sourceDecl', () => {
    this.CONSUME(Decl.source);
    this.CONSUME(T.Name, { LABEL: 'name' });
    this.CONSUME(T.Colon);
    this.SUBRULE(this.typeExpr, { LABEL: 'schema' });
    this.CONSUME(Kw.from);
    this.CONSUME2(T.Name, { LABEL: 'connector' });
    this.OPTION(() => this.SUBRULE(this.optionsBlock));
    this.OPTION2(() => this.SUBRULE(this.eventTimeClause));
    this.OPTION3(() => this.SUBRULE(this.partitionClause));
  });

  /** `partitioned by country, address.city`: the fields the source's records are spread over its partitions by. */
  partitionClause = this.RULE('partitionClause', () => {
    this.CONSUME(Kw.partitioned);
    this.CONSUME(Kw.by);
    this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.fieldPath, { LABEL: 'key' }) });
  });

  /** `address.city` */
  fieldPath = this.RULE('fieldPath', () => {
    this.CONSUME(T.Name, { LABEL: 'path' });
    this.MANY(() => {
      this.CONSUME(T.Dot);
      this.CONSUME2(T.Name, { LABEL: 'path' });
    });
  });

  /** `event time created_at lateness 10s idle 1m` */
  eventTimeClause = this.RULE('eventTimeClause', () => {
    this.CONSUME(Kw.event);
    this.CONSUME(Kw.time);
    this.CONSUME(T.Name, { LABEL: 'path' });
    this.MANY(() => {
      this.CONSUME(T.Dot);
      this.CONSUME2(T.Name, { LABEL: 'path' });
    });
    this.OPTION(() => {
      this.CONSUME(Kw.lateness);
      this.CONSUME(T.Duration, { LABEL: 'lateness' });
    });
    this.OPTION2(() => {
      this.CONSUME(Kw.idle);
      this.CONSUME2(T.Duration, { LABEL: 'idle' });
    });
  });

  sinkDecl = this.RULE('sinkDecl', () => {
    this.CONSUME(Decl.sink);
    this.CONSUME(T.Name, { LABEL: 'input' });
    this.CONSUME(Kw.to);
    this.CONSUME2(T.Name, { LABEL: 'connector' });
    this.OPTION(() => this.SUBRULE(this.optionsBlock));
  });

  deadLetterDecl = this.RULE('deadLetterDecl', () => {
    this.CONSUME(Decl.dead);
    this.CONSUME(Kw.letter);
    this.CONSUME(Kw.to);
    this.CONSUME(T.Name, { LABEL: 'connector' });
    this.OPTION(() => this.SUBRULE(this.optionsBlock));
  });

  optionsBlock = this.RULE('optionsBlock', () => {
    this.CONSUME(T.LCurly);
    this.MANY(() => {
      this.SUBRULE(this.optionEntry, { LABEL: 'entries' });
      this.OPTION(() => this.CONSUME(T.Comma));
    });
    this.CONSUME(T.RCurly);
  });

  /** `name: value`; a quoted key (`"group.id": "x"`) allows names with dots. */
  optionEntry = this.RULE('optionEntry', () => {
    this.OR(this.once('optionEntry', () => [
      { ALT: () => this.CONSUME(T.AnyName, { LABEL: 'name' }) },
      { ALT: () => this.CONSUME(T.StringLiteral, { LABEL: 'name' }) },
    ]));
    this.CONSUME(T.Colon);
    this.SUBRULE(this.expression, { LABEL: 'value' });
  });

  streamDecl = this.RULE('streamDecl', () => {
    this.CONSUME(Decl.stream);
    this.CONSUME(T.Name, { LABEL: 'name' });
    this.CONSUME(T.Equals);
    this.CONSUME2(T.Name, { LABEL: 'input' });
    this.MANY(() => {
      this.CONSUME(T.Pipe);
      this.SUBRULE(this.operator, { LABEL: 'operators' });
    });
  });

  // ---------------------------------------------------------------- operators

  /** One alternative per operator; new operators (windows, joins, lookups) add an alternative here. */
  operator = this.RULE('operator', () => {
    this.OR(this.once('operator', () => [
      { ALT: () => this.SUBRULE(this.whereOp) },
      { ALT: () => this.SUBRULE(this.selectOp) },
      { ALT: () => this.SUBRULE(this.keyByOp) },
      { ALT: () => this.SUBRULE(this.flatMapOp) },
      { ALT: () => this.SUBRULE(this.unionOp) },
      { ALT: () => this.SUBRULE(this.routeOp) },
      { ALT: () => this.SUBRULE(this.onErrorOp) },
      { ALT: () => this.SUBRULE(this.dedupeOp) },
      { ALT: () => this.SUBRULE(this.lookupOp) },
      { ALT: () => this.SUBRULE(this.windowOp) },
      { ALT: () => this.SUBRULE(this.groupOp) },
    ]));
  });

  whereOp = this.RULE('whereOp', () => {
    this.CONSUME(Kw.where);
    this.SUBRULE(this.expression, { LABEL: 'condition' });
  });

  selectOp = this.RULE('selectOp', () => {
    this.CONSUME(Kw.select);
    this.CONSUME(T.LCurly);
    this.MANY(() => {
      this.SUBRULE(this.selectItem, { LABEL: 'items' });
      this.OPTION(() => this.CONSUME(T.Comma));
    });
    this.CONSUME(T.RCurly);
  });

  selectItem = this.RULE('selectItem', () => {
    this.OR(this.once('selectItem', () => [
      { ALT: () => this.CONSUME(T.Star, { LABEL: 'all' }) },
      {
        ALT: () => {
          this.CONSUME(T.Minus, { LABEL: 'drop' });
          this.CONSUME(T.AnyName, { LABEL: 'name' });
        },
      },
      {
        ALT: () => {
          this.CONSUME2(T.AnyName, { LABEL: 'name' });
          this.CONSUME(T.Colon);
          const saved = this.lineEndsSelectValue;
          this.lineEndsSelectValue = true;
          try {
            this.SUBRULE(this.expression, { LABEL: 'value' });
          } finally {
            this.lineEndsSelectValue = saved;
          }
        },
      },
      {
        ALT: () => {
          this.CONSUME3(T.AnyName, { LABEL: 'path' });
          this.MANY(() => {
            this.CONSUME(T.Dot);
            this.CONSUME4(T.AnyName, { LABEL: 'path' });
          });
        },
      },
    ]));
  });

  keyByOp = this.RULE('keyByOp', () => {
    this.CONSUME(Kw.key);
    this.CONSUME(Kw.by);
    this.SUBRULE(this.expression, { LABEL: 'key' });
  });

  flatMapOp = this.RULE('flatMapOp', () => {
    this.CONSUME(Kw.flat);
    this.CONSUME(Kw.map);
    this.SUBRULE(this.expression, { LABEL: 'field' });
    this.CONSUME(Kw.as);
    this.CONSUME(T.Name, { LABEL: 'as' });
  });

  unionOp = this.RULE('unionOp', () => {
    this.CONSUME(Kw.union);
    this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.CONSUME(T.Name, { LABEL: 'streams' }) });
  });

  routeOp = this.RULE('routeOp', () => {
    this.CONSUME(Kw.route);
    this.CONSUME(T.LCurly);
    this.MANY(() => {
      this.SUBRULE(this.routeBranch, { LABEL: 'branches' });
      this.OPTION(() => this.CONSUME(T.Comma));
    });
    this.OPTION2(() => {
      this.CONSUME(Kw.else, { LABEL: 'else' });
      this.CONSUME(T.Arrow);
      this.CONSUME(T.Name, { LABEL: 'otherwise' });
      this.OPTION3(() => this.CONSUME2(T.Comma));
    });
    this.CONSUME(T.RCurly);
  });

  routeBranch = this.RULE('routeBranch', () => {
    this.CONSUME(Kw.when);
    this.SUBRULE(this.expression, { LABEL: 'condition' });
    this.CONSUME(T.Arrow);
    this.CONSUME(T.Name, { LABEL: 'target' });
  });

  onErrorOp = this.RULE('onErrorOp', () => {
    this.CONSUME(Kw.on);
    this.CONSUME(Kw.error);
    this.CONSUME(T.Name, { LABEL: 'policy' });
  });

  dedupeOp = this.RULE('dedupeOp', () => {
    this.CONSUME(Kw.dedupe);
    this.CONSUME(Kw.by);
    this.SUBRULE(this.expression, { LABEL: 'key' });
    this.CONSUME(Kw.within);
    this.CONSUME(T.Duration, { LABEL: 'within' });
  });

  /** `lookup customer: Customer from postgres { query: "…", key: customer_id }` */
  lookupOp = this.RULE('lookupOp', () => {
    this.CONSUME(Kw.lookup);
    this.CONSUME(T.Name, { LABEL: 'name' });
    this.CONSUME(T.Colon);
    this.SUBRULE(this.typeExpr, { LABEL: 'schema' });
    this.CONSUME(Kw.from);
    this.CONSUME2(T.Name, { LABEL: 'connector' });
    this.OPTION(() => this.SUBRULE(this.optionsBlock));
  });

  /** `window tumbling 1m`, `window hopping 10m every 1m`, `window session gap 30s`, `window cumulate 1h every 10m`, each with an optional `emit final|updates`. */
  windowOp = this.RULE('windowOp', () => {
    this.CONSUME(Kw.window);
    this.CONSUME(T.Name, { LABEL: 'shape' });
    this.OPTION(() => this.CONSUME(Kw.gap, { LABEL: 'gap' }));
    this.CONSUME(T.Duration, { LABEL: 'size' });
    this.OPTION2(() => {
      this.CONSUME(Kw.every);
      this.CONSUME2(T.Duration, { LABEL: 'every' });
    });
    this.OPTION3(() => {
      this.CONSUME(Kw.emit);
      this.CONSUME2(T.Name, { LABEL: 'emit' });
    });
  });

  /** `group by country, city: address.city { orders: count(), revenue: sum(amount) }`; without `by`, one group. */
  groupOp = this.RULE('groupOp', () => {
    this.CONSUME(Kw.group);
    this.OPTION(() => {
      this.CONSUME(Kw.by);
      this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.selectItem, { LABEL: 'keys' }) });
    });
    this.CONSUME(T.LCurly);
    this.MANY(() => {
      this.SUBRULE2(this.selectItem, { LABEL: 'aggregates' });
      this.OPTION2(() => this.CONSUME(T.Comma));
    });
    this.CONSUME(T.RCurly);
  });

  // ---------------------------------------------------------------- expressions

  /** Every nested expression (in brackets, a branch of `if` or `case`) enters here: one level each. */
  expression = this.RULE('expression', () => {
    this.deeper('expression', () => {
      this.SUBRULE(this.orExpr, { LABEL: 'operands' });
      this.MANY(() => {
        this.CONSUME(T.QuestionQuestion, { LABEL: 'ops' });
        this.SUBRULE2(this.orExpr, { LABEL: 'operands' });
      });
    });
  });

  orExpr = this.RULE('orExpr', () => {
    this.SUBRULE(this.andExpr, { LABEL: 'operands' });
    this.MANY(() => {
      this.CONSUME(Kw.or, { LABEL: 'ops' });
      this.SUBRULE2(this.andExpr, { LABEL: 'operands' });
    });
  });

  andExpr = this.RULE('andExpr', () => {
    this.SUBRULE(this.notExpr, { LABEL: 'operands' });
    this.MANY(() => {
      this.CONSUME(Kw.and, { LABEL: 'ops' });
      this.SUBRULE2(this.notExpr, { LABEL: 'operands' });
    });
  });

  notExpr = this.RULE('notExpr', () => {
    this.OR(this.once('notExpr', () => [
      {
        ALT: () => {
          this.CONSUME(Kw.not, { LABEL: 'not' });
          this.deeper('expression', () => this.SUBRULE(this.notExpr, { LABEL: 'operand' }));
        },
      },
      { ALT: () => this.SUBRULE(this.comparison, { LABEL: 'operand' }) },
    ]));
  });

  comparison = this.RULE('comparison', () => {
    this.SUBRULE(this.additive, { LABEL: 'operand' });
    this.MANY(() => this.SUBRULE(this.comparisonTail, { LABEL: 'tails' }));
  });

  comparisonTail = this.RULE('comparisonTail', () => {
    this.OR(this.once('comparisonTail', () => [
      {
        ALT: () => {
          this.OR2(this.once('comparisonOperator', () => [
            { ALT: () => this.CONSUME(T.EqualEqual, { LABEL: 'op' }) },
            { ALT: () => this.CONSUME(T.NotEqual, { LABEL: 'op' }) },
            { ALT: () => this.CONSUME(T.LessEqual, { LABEL: 'op' }) },
            { ALT: () => this.CONSUME(T.GreaterEqual, { LABEL: 'op' }) },
            { ALT: () => this.CONSUME(T.Less, { LABEL: 'op' }) },
            { ALT: () => this.CONSUME(T.Greater, { LABEL: 'op' }) },
            { ALT: () => this.CONSUME(Kw.like, { LABEL: 'op' }) },
            { ALT: () => this.CONSUME(Kw.matches, { LABEL: 'op' }) },
          ]));
          this.SUBRULE(this.additive, { LABEL: 'right' });
        },
      },
      {
        ALT: () => {
          this.OPTION(() => this.CONSUME(Kw.not, { LABEL: 'not' }));
          this.CONSUME(Kw.in, { LABEL: 'in' });
          this.CONSUME(T.LParen);
          this.SUBRULE(this.expressionList, { LABEL: 'list' });
          this.CONSUME(T.RParen);
        },
      },
      {
        ALT: () => {
          this.OPTION2(() => this.CONSUME2(Kw.not, { LABEL: 'not' }));
          this.CONSUME(Kw.between, { LABEL: 'between' });
          this.SUBRULE2(this.additive, { LABEL: 'low' });
          this.CONSUME(Kw.and);
          this.SUBRULE3(this.additive, { LABEL: 'high' });
        },
      },
    ]));
  });

  additive = this.RULE('additive', () => {
    this.SUBRULE(this.multiplicative, { LABEL: 'operands' });
    this.MANY(this.once('additive.many', () => ({
      GATE: () => !this.startsSelectItem(),
      DEF: () => {
        this.OR(this.once('additive', () => [
          { ALT: () => this.CONSUME(T.Plus, { LABEL: 'ops' }) },
          { ALT: () => this.CONSUME(T.Minus, { LABEL: 'ops' }) },
        ]));
        this.SUBRULE2(this.multiplicative, { LABEL: 'operands' });
      },
    })));
  });

  multiplicative = this.RULE('multiplicative', () => {
    this.SUBRULE(this.unary, { LABEL: 'operands' });
    this.MANY(this.once('multiplicative.many', () => ({
      GATE: () => !this.startsSelectItem(),
      DEF: () => {
        this.OR(this.once('multiplicative', () => [
          { ALT: () => this.CONSUME(T.Star, { LABEL: 'ops' }) },
          { ALT: () => this.CONSUME(T.Slash, { LABEL: 'ops' }) },
          { ALT: () => this.CONSUME(T.Percent, { LABEL: 'ops' }) },
        ]));
        this.SUBRULE2(this.unary, { LABEL: 'operands' });
      },
    })));
  });

  unary = this.RULE('unary', () => {
    this.OR(this.once('unary', () => [
      {
        ALT: () => {
          this.CONSUME(T.Minus, { LABEL: 'minus' });
          this.deeper('expression', () => this.SUBRULE(this.unary, { LABEL: 'operand' }));
        },
      },
      { ALT: () => this.SUBRULE(this.postfix, { LABEL: 'operand' }) },
    ]));
  });

  postfix = this.RULE('postfix', () => {
    this.SUBRULE(this.primary, { LABEL: 'primary' });
    this.MANY(() => this.SUBRULE(this.postfixOp, { LABEL: 'ops' }));
  });

  postfixOp = this.RULE('postfixOp', () => {
    this.OR(this.once('postfixOp', () => [
      {
        ALT: () => {
          this.CONSUME(T.Dot, { LABEL: 'dot' });
          this.CONSUME(T.AnyName, { LABEL: 'property' });
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.QuestionDot, { LABEL: 'dot' });
          this.CONSUME2(T.AnyName, { LABEL: 'property' });
        },
      },
      {
        ALT: () => {
          this.OPTION(() => this.CONSUME(T.Question, { LABEL: 'nullSafe' }));
          this.CONSUME(T.LBracket);
          this.SUBRULE(this.nestedExpression, { LABEL: 'index' });
          this.CONSUME(T.RBracket);
        },
      },
    ]));
  });

  primary = this.RULE('primary', () => {
    this.OR(this.once('primary', () => ({
      // Soft keywords are names too; the alternatives that need a keyword plus more come first.
      IGNORE_AMBIGUITIES: true,
      DEF: [
        { ALT: () => this.CONSUME(T.NumberLiteral, { LABEL: 'number' }) },
        { ALT: () => this.CONSUME(T.Duration, { LABEL: 'duration' }) },
        { ALT: () => this.CONSUME(T.StringLiteral, { LABEL: 'string' }) },
        { ALT: () => this.CONSUME(Kw.true, { LABEL: 'boolean' }) },
        { ALT: () => this.CONSUME(Kw.false, { LABEL: 'boolean' }) },
        { ALT: () => this.CONSUME(Kw.null, { LABEL: 'null' }) },
        {
          ALT: () => {
            this.CONSUME(T.TypedLiteralWord, { LABEL: 'typed' });
            this.CONSUME2(T.StringLiteral, { LABEL: 'string' });
          },
        },
        { ALT: () => this.SUBRULE(this.call) },
        { ALT: () => this.SUBRULE(this.mapLiteral) },
        { ALT: () => this.CONSUME(T.Name, { LABEL: 'field' }) },
        { ALT: () => this.SUBRULE(this.arrayLiteral) },
        {
          ALT: () => {
            this.CONSUME(T.LParen);
            this.SUBRULE(this.nestedExpression, { LABEL: 'parenthesized' });
            this.CONSUME(T.RParen);
          },
        },
        { ALT: () => this.SUBRULE(this.ifExpr) },
        { ALT: () => this.SUBRULE(this.caseExpr) },
      ],
    })));
  });

  call = this.RULE('call', () => {
    this.CONSUME(T.Name, { LABEL: 'callee' });
    this.CONSUME(T.LParen);
    this.OPTION(() => this.SUBRULE(this.expressionList, { LABEL: 'args' }));
    this.CONSUME(T.RParen);
  });

  mapLiteral = this.RULE('mapLiteral', () => {
    this.CONSUME(Kw.map);
    this.CONSUME(T.LCurly);
    this.MANY(() => {
      this.CONSUME(T.StringLiteral, { LABEL: 'keys' });
      this.CONSUME(T.Colon);
      this.SUBRULE(this.nestedExpression, { LABEL: 'values' });
      this.OPTION(() => this.CONSUME(T.Comma));
    });
    this.CONSUME(T.RCurly);
  });

  arrayLiteral = this.RULE('arrayLiteral', () => {
    this.CONSUME(T.LBracket);
    this.OPTION(() => this.SUBRULE(this.expressionList, { LABEL: 'items' }));
    this.CONSUME(T.RBracket);
  });

  /** Comma-separated expressions inside brackets. */
  expressionList = this.RULE('expressionList', () => {
    this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.nestedExpression, { LABEL: 'items' }) });
  });

  /** An expression inside brackets, where newlines never end a select item's value. */
  nestedExpression = this.RULE('nestedExpression', () => {
    const saved = this.lineEndsSelectValue;
    this.lineEndsSelectValue = false;
    try {
      this.SUBRULE(this.expression, { LABEL: 'expression' });
    } finally {
      this.lineEndsSelectValue = saved;
    }
  });

  ifExpr = this.RULE('ifExpr', () => {
    this.CONSUME(Kw.if);
    this.SUBRULE(this.expression, { LABEL: 'condition' });
    this.CONSUME(Kw.then);
    this.SUBRULE2(this.expression, { LABEL: 'then' });
    this.CONSUME(Kw.else);
    this.SUBRULE3(this.expression, { LABEL: 'otherwise' });
  });

  caseExpr = this.RULE('caseExpr', () => {
    this.CONSUME(Kw.case);
    this.AT_LEAST_ONE(() => {
      this.CONSUME(Kw.when);
      this.SUBRULE(this.expression, { LABEL: 'conditions' });
      this.CONSUME(Kw.then);
      this.SUBRULE2(this.expression, { LABEL: 'values' });
    });
    this.OPTION(() => {
      this.CONSUME(Kw.else);
      this.SUBRULE3(this.expression, { LABEL: 'otherwise' });
    });
    this.CONSUME(Kw.end);
  });

  /** Pretending an opening bracket was there only leads to a second error at the missing closer. */
  protected override canTokenTypeBeInsertedInRecovery(type: TokenType): boolean {
    return type !== T.LParen && type !== T.LCurly && type !== T.LBracket;
  }

  /** Parses one level of nesting deeper, or stops the parse past MAX_NESTING. */
  private deeper(what: NestingTooDeep['what'], parse: () => void): void {
    if (this.depth >= MAX_NESTING) throw new NestingTooDeep(this.LA(1), what);
    this.depth++;
    try {
      parse();
    } finally {
      this.depth--;
    }
  }

  /** See `lineEndsSelectValue`. */
  private startsSelectItem(): boolean {
    if (!this.lineEndsSelectValue) return false;
    const next = this.LA(1);
    const previous = this.LA(0);
    if (!(tokenMatcher(next, T.Minus) || tokenMatcher(next, T.Star))) return false;
    return previous.endLine !== undefined && next.startLine !== undefined && next.startLine > previous.endLine;
  }
}

