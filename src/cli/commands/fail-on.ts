/** `--fail-on`: the exit code of a finished batch for a scheduler or CI to alert on. */
import { batchChangeCounts, crossedRules, isFinished, needsChanges, type BatchSummary, type FailOnRule, type Runtime } from '../../app/index.js';
import { ExitCode } from '../cli-error.js';

/** 4 (with one line per crossed rule on stderr) when the finished batch crosses a rule; 0 otherwise, and for an unfinished batch. */
export async function failOnExit(runtime: Runtime, summary: BatchSummary | null, rules: readonly FailOnRule[]): Promise<number> {
  if (summary === null || !isFinished(summary)) return ExitCode.OK;
  const changes = needsChanges(rules) ? await batchChangeCounts(runtime, summary.batch) : undefined;
  const crossed = crossedRules(rules, summary, changes);
  for (const line of crossed) process.stderr.write(`rescreen: --fail-on ${line}\n`);
  return crossed.length > 0 ? ExitCode.FAIL_ON : ExitCode.OK;
}
