import type { Runtime } from '../../app/index.js';

/** What every route module gets from the server. */
export interface RouteContext {
  readonly runtime: Runtime;
  readonly manifestRoot: string | undefined;
  readonly bodyLimitBytes: number;
}
