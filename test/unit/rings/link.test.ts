/**
 * The linking rule of src/rings/link.ts on records (issue 20): OOTO template links, and identity
 * collisions — a line carrying the subject's own enrolled `templateId` whose identify call
 * confidently matched another template, or another subject matching a subject's own template.
 */
import { describe, expect, it } from 'vitest';
import type { ResultRecord } from '../../../src/checks/types.js';
import { entriesOf, isCollision, linksAmong } from '../../../src/rings/link.js';

const T = 0.75;

function rec(line: number, subject: string, fields: Partial<ResultRecord> & Record<string, unknown>): ResultRecord {
  return {
    batch: 'n1',
    line,
    subject,
    check: 'ooto-identify',
    status: 'completed',
    transactionId: `tx-${line}`,
    verdict: 'match',
    score: null,
    error: null,
    attempts: 1,
    finishedAt: `2026-01-01T00:00:0${line}.000Z`,
    response: null,
    ...fields,
  };
}

/** Links among the entries of `records` (every entry is a candidate of every other, as the store's look-up by template id gives). */
function links(records: ResultRecord[]) {
  const e = records.map((r) => entriesOf(r, T));
  const all = { media: e.flatMap((x) => x.media), templates: e.flatMap((x) => x.templates) };
  return linksAmong(all, all);
}

describe('template links and identity collisions', () => {
  it("a line's own templateId is an enrolled entry; a confident match carries the template it was enrolled as", () => {
    const { templates } = entriesOf(rec(1, 'M', { templateId: 'tmpl-dave', score: 0.93, enrolledTemplateId: 'tmpl-m' }), T);
    expect(templates.map((t) => [t.templateId, t.role, t.similarity, t.enrolledAs])).toEqual([
      ['tmpl-dave', 'matched', 0.93, 'tmpl-m'],
      ['tmpl-m', 'enrolled', null, undefined],
    ]);
    // Below the match threshold, no match entry; the enrolled one stays.
    expect(entriesOf(rec(1, 'M', { templateId: 'tmpl-dave', score: 0.5, enrolledTemplateId: 'tmpl-m' }), T).templates.map((t) => t.role)).toEqual(['enrolled']);
  });

  it('M enrolled as tmpl-m matched D\'s own tmpl-dave: an identity collision link D–M, of the match\'s similarity', () => {
    const found = links([rec(1, 'D', { check: 'ooto-deepfake', verdict: 'genuine', score: 0.99, enrolledTemplateId: 'tmpl-dave' }), rec(2, 'M', { templateId: 'tmpl-dave', score: 0.91, enrolledTemplateId: 'tmpl-m' })]);
    expect(found).toEqual([{ kind: 'template', a: 'D', b: 'M', strength: 0.91, aRef: { batch: 'n1', line: 1 }, bRef: { batch: 'n1', line: 2 }, at: '2026-01-01T00:00:02.000Z', collision: true }]);
  });

  it('a confident match to another template than its own collides with another subject that matched that template', () => {
    const found = links([rec(1, 'M', { templateId: 'tmpl-x', score: 0.9, enrolledTemplateId: 'tmpl-m' }), rec(2, 'N', { templateId: 'tmpl-x', score: 0.8 })]);
    expect(found.map((l) => [l.a, l.b, l.strength, l.collision])).toEqual([['M', 'N', 0.8, true]]);
  });

  it('two subjects that only matched the same template share it: a plain template link, no collision', () => {
    const found = links([rec(1, 'C', { templateId: 'tmpl-carol', score: 0.9 }), rec(2, 'D', { templateId: 'tmpl-carol', score: 0.85 })]);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ kind: 'template', a: 'C', b: 'D', strength: 0.85 });
    expect(found[0]!.collision).toBeUndefined();
  });

  it('a subject matching its own enrolled template links nobody; two subjects enrolled as one template collide', () => {
    expect(links([rec(1, 'S', { templateId: 'tmpl-s', score: 0.99, enrolledTemplateId: 'tmpl-s' })])).toEqual([]);
    expect(links([rec(1, 'S', { templateId: 'tmpl-s', score: 0.99, enrolledTemplateId: 'tmpl-s' }), rec(2, 'S', { templateId: 'tmpl-s', score: 0.97, enrolledTemplateId: 'tmpl-s' })])).toEqual([]);
    expect(links([rec(1, 'S', { check: 'ooto-deepfake', enrolledTemplateId: 'tmpl-s' }), rec(2, 'T', { check: 'ooto-deepfake', enrolledTemplateId: 'tmpl-s' })]).map((l) => [l.a, l.b, l.strength, l.collision])).toEqual([['S', 'T', 1, true]]);
  });

  it('a collision of a pair wins over a shared match of the same pair', () => {
    // P and Q both matched tmpl-x (0.95, shared); P also matched Q's own tmpl-q (0.8): one link, the collision.
    const found = links([
      rec(1, 'P', { templateId: 'tmpl-x', score: 0.95 }),
      rec(2, 'Q', { templateId: 'tmpl-x', score: 0.95 }),
      rec(3, 'Q', { check: 'ooto-deepfake', enrolledTemplateId: 'tmpl-q' }),
      rec(4, 'P', { templateId: 'tmpl-q', score: 0.8 }),
    ]);
    expect(found.map((l) => [l.a, l.b, l.strength, l.collision, l.aRef.line, l.bRef.line])).toEqual([['P', 'Q', 0.8, true, 4, 3]]);
    expect(isCollision({ batch: 'n1', line: 1, templateId: 't', subject: 'a', role: 'matched', similarity: 0.9, at: '' }, { batch: 'n1', line: 2, templateId: 't', subject: 'b', role: 'matched', similarity: 0.9, at: '' })).toBe(false);
  });
});
