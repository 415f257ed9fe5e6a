/**
 * All SQL lives under src/store/postgres/ (and the migrations, outside src/): no string or template
 * literal anywhere else in src/ holds an SQL statement. Literals are found with the TypeScript
 * parser, so comments and identifiers do not count, and a statement split across a template's
 * parts is still seen.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../../../', import.meta.url).pathname;
const SRC = join(ROOT, 'src');
const OWNER = join(SRC, 'store', 'postgres') + sep;

/** The shape of an SQL statement (not a lone word: `DELETE` is also an HTTP method). */
const SQL =
  /\b(SELECT\b[\s\S]*\bFROM\b|INSERT\s+INTO\b|UPDATE\s+\w+\s+SET\b|DELETE\s+FROM\b|(CREATE|ALTER|DROP)\s+(TABLE|INDEX|SCHEMA|FUNCTION|TYPE|VIEW)\b|CREATE\s+OR\s+REPLACE\b|TRUNCATE\s+\w+|ON\s+CONFLICT\b)/i;

/** The text of every string and template literal of a source file (a template's parts joined by a space). */
function literals(path: string, text = readFileSync(path, 'utf8')): string[] {
  const file = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const out: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) out.push(node.text);
    else if (ts.isTemplateExpression(node)) out.push([node.head.text, ...node.templateSpans.map((s) => s.literal.text)].join(' '));
    ts.forEachChild(node, visit);
  };
  visit(file);
  return out;
}

function sqlOutsideOwner(): string[] {
  return readdirSync(SRC, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name))
    .filter((path) => !path.startsWith(OWNER))
    .flatMap((path) => literals(path).filter((l) => SQL.test(l)).map((l) => `${relative(ROOT, path)}: ${l.slice(0, 80)}`));
}

describe('SQL has one owner', () => {
  it('no string literal outside src/store/postgres/ holds an SQL statement', () => {
    expect(sqlOutsideOwner()).toEqual([]);
  });

  it('the scan sees SQL in strings and split templates, and not in prose, comments or HTTP methods', () => {
    const found = (code: string) => literals('x.ts', code).filter((l) => SQL.test(l));
    expect(found("q('SELECT count(*) AS n FROM attempts WHERE batch = $1')")).toHaveLength(1);
    expect(found('q(`UPDATE ${table} SET a = 1`)')).toHaveLength(0);
    expect(found('q(`UPDATE batches SET a = ${x} WHERE b = 1`)')).toHaveLength(1);
    expect(found("q(`delete from records where x = ${y}`)")).toHaveLength(1);
    expect(found("const m = new Set(['POST', 'PUT', 'PATCH', 'DELETE']); // SELECT * FROM t")).toHaveLength(0);
    expect(found("err('the batch was deleted; pick another one')")).toHaveLength(0);
  });

  it('the store itself has SQL (the scan reads the files it should)', () => {
    const pg = readdirSync(OWNER).filter((f) => f.endsWith('.ts'));
    expect(pg.some((f) => literals(join(OWNER, f)).some((l) => SQL.test(l)))).toBe(true);
  });
});
