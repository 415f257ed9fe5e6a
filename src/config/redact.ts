/**
 * Keeping configured secrets out of free text (error messages, stored vendor answers) without
 * garbling it. A secret is replaced where it stands as a token of its own — not glued to letters or
 * digits on either side — so a short credential such as `fake` is taken out of `APP-ID: fake` or
 * `"appId":"fake"` but leaves `POST /api/v1.0/deepfake` whole: a replaced fragment of a word would
 * both garble the message and tell the reader the credential. A secret of
 * {@link REDACT_ANYWHERE_LENGTH} characters or more is replaced wherever it appears: no ordinary
 * word contains it by chance. Credentials shorter than {@link MIN_CREDENTIAL_LENGTH} are refused by
 * the configuration (env-schema.ts): as tokens they would be ordinary words.
 */

/** The shortest credential the configuration accepts. */
export const MIN_CREDENTIAL_LENGTH = 4;

/** Secrets at least this long are replaced even inside a longer word. */
export const REDACT_ANYWHERE_LENGTH = 12;

/** What replaces a secret. */
export const REDACTED = '[redacted]';

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A function replacing each of `secrets` in a text by {@link REDACTED} (see the module comment for
 * where). Secrets shorter than {@link MIN_CREDENTIAL_LENGTH} are ignored.
 */
export function secretRedactor(secrets: readonly string[]): (text: string) => string {
  const usable = [...new Set(secrets)].filter((s) => s.length >= MIN_CREDENTIAL_LENGTH).sort((a, b) => b.length - a.length);
  if (usable.length === 0) return (text) => text;
  // Longest first: at one position the longer secret wins, so none is half-replaced.
  const alternatives = usable.map((s) =>
    s.length >= REDACT_ANYWHERE_LENGTH ? escapeRegExp(s) : `(?<![A-Za-z0-9])${escapeRegExp(s)}(?![A-Za-z0-9])`,
  );
  const pattern = new RegExp(alternatives.join('|'), 'g');
  return (text) => text.replace(pattern, REDACTED);
}
