import { describe, expect, it } from 'vitest';
import { describeBudget, formatMoney, type BatchBudget } from '../../../src/app/budget.js';

const budget = (over: Partial<BatchBudget>): BatchBudget => ({
  paidCalls: { ooto: 10, glair: 0 },
  totalPaidCalls: 10,
  spend: 200_000,
  maxCalls: null,
  maxSpend: null,
  held: null,
  state: 'running',
  currency: 'USD',
  budgetReached: false,
  unpriced: [],
  terms: null,
  paidElsewhere: 0,
  failureGuard: null,
  guardTrip: null,
  ...over,
});

describe('budget lines', () => {
  it('money in the currency, 2 to 6 decimals', () => {
    expect(formatMoney(200_000, 'USD')).toBe('USD 0.20');
    expect(formatMoney(12_500, 'EUR')).toBe('EUR 0.0125');
    expect(formatMoney(0, 'USD')).toBe('USD 0.00');
  });

  it('spend, caps, and a reached cap', () => {
    expect(describeBudget(budget({}))).toBe('paid calls 10 (ooto 10, glair 0), spend USD 0.20');
    expect(describeBudget(budget({ maxCalls: 10, maxSpend: 1_000_000, budgetReached: true }))).toBe(
      'paid calls 10 (ooto 10, glair 0), spend USD 0.20; cap 10 calls and USD 1.00 (reached)',
    );
  });

  it('calls to a vendor without a price make the spend unknown, not free', () => {
    expect(describeBudget(budget({ spend: 0, unpriced: ['OOTO_PRICE_PER_CALL'] }))).toBe('paid calls 10 (ooto 10, glair 0), spend unknown (set OOTO_PRICE_PER_CALL)');
  });
});
