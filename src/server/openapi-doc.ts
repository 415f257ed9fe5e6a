/**
 * The last touches to the generated OpenAPI document, so that it passes `redocly lint` with the
 * recommended rules (test/integration/server/ecosystem-lint.test.ts): an operationId on every
 * operation, a 4XX answer on the open routes too, and no component nothing refers to (the zod
 * registry writes an `…Input` twin of every named schema, used or not).
 */

type Operation = Record<string, unknown> & { operationId?: string; responses?: Record<string, unknown> };
type Doc = { paths?: Record<string, Record<string, Operation>>; components?: { schemas?: Record<string, unknown> } };

const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options']);

/** `get` + `/api/batches/{id}/records` → `getBatchesByIdRecords`: stable and unique per operation. */
export function operationId(method: string, path: string): string {
  const words = path
    .split('/')
    .filter((s) => s !== '' && s !== 'api')
    .map((s) => (s.startsWith('{') ? `by-${s.slice(1, -1)}` : s))
    .flatMap((s) => s.split(/[^A-Za-z0-9]+/))
    .filter((w) => w !== '');
  return method + words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
}

/** Adds what the document lacks, in place (see the module's comment). */
export function finishDocument(doc: Doc): void {
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const [method, op] of Object.entries(item)) {
      if (!METHODS.has(method)) continue;
      op.operationId ??= operationId(method, path);
      const responses = (op.responses ??= {});
      // Any path answers 404 to a method it does not have (problem+json, like every error).
      if (!Object.keys(responses).some((code) => code.startsWith('4'))) {
        responses['404'] = { description: 'No such route', content: { 'application/problem+json': { schema: { type: 'object' } } } };
      }
    }
  }
  const schemas = doc.components?.schemas;
  if (!schemas) return;
  // Drop components no reference reaches, transitively, until none is left to drop.
  for (;;) {
    const text = JSON.stringify({ ...doc, components: { ...doc.components, schemas: undefined } }) + JSON.stringify(schemas);
    const unused = Object.keys(schemas).filter((name) => !text.includes(`"#/components/schemas/${name}"`));
    if (unused.length === 0) return;
    for (const name of unused) delete schemas[name];
  }
}
