/** An error the CLI reports as one line on stderr, exiting with `exitCode` (no stack trace). */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number = 1,
  ) {
    super(message);
  }
}

/**
 * Exit codes: 0 done; 1 not found or the run failed; 2 unusable input, bad configuration, no Redis;
 * 3 a vendor refused our credentials; 4 the finished batch crossed a `--fail-on` rule; 130 Ctrl-C.
 */
export const ExitCode = { OK: 0, FAILED: 1, USAGE: 2, VENDOR_STOPPED: 3, FAIL_ON: 4, INTERRUPTED: 130 } as const;
