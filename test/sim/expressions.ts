/**
 * The part of DynamoDB's expression language the model answers: condition
 * expressions (`=`, `<>`, `<`, `<=`, `>`, `>=`, `attribute_exists`,
 * `attribute_not_exists`, `attribute_type`, AND, OR, NOT, parentheses) and update expressions
 * (`SET path = operand, ...` with `:value`, a path, `if_not_exists(path,
 * operand)` and `a + b` / `a - b` on numbers; `REMOVE path, ...`), on
 * top-level attributes named directly or through `#name`. Anything else is a
 * ValidationException naming what the model does not know, so a product
 * change that needs more fails loudly rather than being answered wrongly.
 */
import { invalid } from "./service.ts";

type Value = Record<string, unknown>;
export type Item = Record<string, Value>;

export interface Expression {
  names?: Record<string, string>;
  values?: Record<string, Value>;
}

type Token = { kind: "word" | "op" | "punct"; text: string };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(?:([#:]?[A-Za-z_][\w.]*)|(<>|<=|>=|=|<|>|\+|-)|([(),]))/y;
  let at = 0;
  while (at < text.length) {
    if (/^\s*$/.test(text.slice(at))) break;
    re.lastIndex = at;
    const m = re.exec(text);
    if (m === null)
      throw invalid(`Invalid expression: the model cannot read ${JSON.stringify(text.slice(at))}`);
    if (m[1] !== undefined) tokens.push({ kind: "word", text: m[1] });
    else if (m[2] !== undefined) tokens.push({ kind: "op", text: m[2] });
    else tokens.push({ kind: "punct", text: m[3] as string });
    at = re.lastIndex;
  }
  return tokens;
}

class Parser {
  private at = 0;

  constructor(
    private readonly tokens: Token[],
    private readonly e: Expression,
  ) {}

  peek(): Token | undefined {
    return this.tokens[this.at];
  }

  next(): Token {
    const t = this.tokens[this.at++];
    if (t === undefined) throw invalid("Invalid expression: unexpected end");
    return t;
  }

  eat(text: string): boolean {
    if (this.peek()?.text.toUpperCase() !== text.toUpperCase()) return false;
    this.at++;
    return true;
  }

  expect(text: string): void {
    if (!this.eat(text)) throw invalid(`Invalid expression: expected ${text}`);
  }

  done(): boolean {
    return this.at >= this.tokens.length;
  }

  /** An attribute name, `#name` resolved. */
  path(): string {
    const t = this.next();
    if (t.kind !== "word" || t.text.startsWith(":"))
      throw invalid(`Invalid expression: ${t.text} is not a path`);
    const name = t.text.startsWith("#") ? this.e.names?.[t.text] : t.text;
    if (name === undefined)
      throw invalid(
        `An expression attribute name used in the document path is not defined; attribute name: ${t.text}`,
      );
    if (t.text.includes(".")) throw invalid(`The model knows top-level attributes only: ${t.text}`);
    return name;
  }

  /** A value: `:value`, a path, if_not_exists(path, operand), with + and - between. */
  operand(item: Item): Value | undefined {
    let left = this.single(item);
    for (let op = this.peek(); op?.text === "+" || op?.text === "-"; op = this.peek()) {
      this.next();
      const right = this.single(item);
      const a = Number(left?.N);
      const b = Number(right?.N);
      if (!Number.isFinite(a) || !Number.isFinite(b)) {
        throw invalid("An operand in the update expression has an incorrect data type");
      }
      left = { N: String(op.text === "+" ? a + b : a - b) };
    }
    return left;
  }

  private single(item: Item): Value | undefined {
    const t = this.peek();
    if (t?.text.startsWith(":")) {
      this.next();
      const value = this.e.values?.[t.text];
      if (value === undefined)
        throw invalid(
          `An expression attribute value used in expression is not defined; attribute value: ${t.text}`,
        );
      return value;
    }
    if (t?.text === "if_not_exists") {
      this.next();
      this.expect("(");
      const current = item[this.path()];
      this.expect(",");
      const fallback = this.operand(item);
      this.expect(")");
      return current ?? fallback;
    }
    return item[this.path()];
  }

  condition(item: Item): boolean {
    let result = this.conjunction(item);
    while (this.eat("OR")) result = this.conjunction(item) || result;
    return result;
  }

  private conjunction(item: Item): boolean {
    let result = this.negation(item);
    while (this.eat("AND")) result = this.negation(item) && result;
    return result;
  }

  private negation(item: Item): boolean {
    if (this.eat("NOT")) return !this.negation(item);
    if (this.eat("(")) {
      const result = this.condition(item);
      this.expect(")");
      return result;
    }
    const t = this.peek();
    if (t?.text === "attribute_type") {
      this.next();
      this.expect("(");
      const value = item[this.path()];
      this.expect(",");
      const type = this.operand(item)?.S;
      this.expect(")");
      return value !== undefined && type !== undefined && Object.keys(value)[0] === type;
    }
    if (t?.text === "attribute_exists" || t?.text === "attribute_not_exists") {
      this.next();
      this.expect("(");
      const exists = item[this.path()] !== undefined;
      this.expect(")");
      return t.text === "attribute_exists" ? exists : !exists;
    }
    const left = this.operand(item);
    const op = this.next();
    if (op.kind !== "op")
      throw invalid(`Invalid ConditionExpression: the model does not know ${op.text}`);
    return compare(left, op.text, this.operand(item));
  }
}

function compare(a: Value | undefined, op: string, b: Value | undefined): boolean {
  if (a === undefined || b === undefined) return op === "<>" && a !== b;
  if (op === "=") return JSON.stringify(a) === JSON.stringify(b);
  if (op === "<>") return JSON.stringify(a) !== JSON.stringify(b);
  const x = a.N !== undefined ? Number(a.N) : a.S;
  const y = b.N !== undefined ? Number(b.N) : b.S;
  if (x === undefined || y === undefined || typeof x !== typeof y) return false;
  if (op === "<") return (x as number) < (y as number);
  if (op === "<=") return (x as number) <= (y as number);
  if (op === ">") return (x as number) > (y as number);
  return (x as number) >= (y as number);
}

/**
 * Whether `item` (undefined: absent) meets `condition`; no condition is always met.
 *
 * @example
 * meets({ nextFree: { N: "5" } }, "nextFree = :seen", { values: { ":seen": { N: "5" } } }); // true
 */
export function meets(
  item: Item | undefined,
  condition: string | undefined,
  e: Expression,
): boolean {
  if (condition === undefined) return true;
  const parser = new Parser(tokenize(condition), e);
  const result = parser.condition(item ?? {});
  if (!parser.done())
    throw invalid("Invalid ConditionExpression: unexpected text after the condition");
  return result;
}

/**
 * `item` (a copy; undefined: a new item from `key`) after `update`, and the attributes the update names.
 *
 * @example
 * applyUpdate(undefined, { pk: { S: "#rate" } }, "SET nextFree = :end", { values: { ":end": { N: "9" } } });
 * // { item: { pk: { S: "#rate" }, nextFree: { N: "9" } }, touched: Set { "nextFree" } }
 */
export function applyUpdate(
  item: Item | undefined,
  key: Item,
  update: string,
  e: Expression,
): { item: Item; touched: Set<string> } {
  const before = item ?? key;
  const result: Item = { ...before };
  const touched = new Set<string>();
  const parser = new Parser(tokenize(update), e);
  while (!parser.done()) {
    if (parser.eat("SET")) {
      do {
        const path = parser.path();
        touched.add(path);
        parser.expect("=");
        // Operands read the item as it was before this update, as DynamoDB evaluates them.
        const value = parser.operand(before);
        if (value === undefined)
          throw invalid(
            "The provided expression refers to an attribute that does not exist in the item",
          );
        result[path] = value;
      } while (parser.eat(","));
    } else if (parser.eat("REMOVE")) {
      do {
        const path = parser.path();
        touched.add(path);
        delete result[path];
      } while (parser.eat(","));
    } else {
      throw invalid(`Invalid UpdateExpression: the model does not know ${parser.peek()?.text}`);
    }
  }
  return { item: result, touched };
}
