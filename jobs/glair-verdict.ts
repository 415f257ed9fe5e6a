import type { CheckOutcome } from '../src/checks/types.js';
import type { GlairDeepfakeResult, VendorAnswer } from '../src/vendors/types.js';

/**
 * GLAIR's read as a verdict: `real` → genuine, `fake` → deepfake. Score = 1 − confidence, because
 * the samples show confidence is the probability of fake (0.998 → fake, 0.064 → real), and a
 * rescreen score is "higher = more genuine" for every deepfake check.
 */
export function glairOutcome(answer: VendorAnswer<GlairDeepfakeResult>): CheckOutcome {
  return {
    verdict: answer.result.value === 'real' ? 'genuine' : 'deepfake',
    score: Math.min(1, Math.max(0, 1 - answer.result.confidence)),
    transactionId: answer.transactionId,
    response: answer.body,
  };
}
