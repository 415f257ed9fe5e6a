import { ErrorCodes, RescreenError } from '../errors/errors.js';

/**
 * A schedule that cannot be accepted: a bad name, `--every` duration, cron expression or time zone,
 * or a missing manifest. The message is one sentence naming the option.
 */
export class InvalidScheduleError extends RescreenError {
  override name = 'InvalidScheduleError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.INVALID_SCHEDULE, message, options);
  }
}
