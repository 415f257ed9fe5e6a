import { ErrorCodes, RescreenError } from '../errors/errors.js';

/**
 * The manifest cannot be read at all: missing, a folder, no permission, an I/O error, or a CSV
 * header that cannot name columns. The producer throws it before writing anything when it happens
 * at the start; `rescreen enqueue` exits non-zero on it (and only on it).
 */
export class ManifestUnreadableError extends RescreenError {
  override name = 'ManifestUnreadableError';
  /** The manifest path as given. */
  readonly path: string;
  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.MANIFEST_UNREADABLE, message, options);
    this.path = path;
  }
}
