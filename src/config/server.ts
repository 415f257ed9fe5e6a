/**
 * The environment of `rescreen serve` (zod): API tokens with their roles, the folder server-side
 * manifests may be read from, and the request body limit. Parsed once, by loadServerConfig in
 * config.ts (the one reader of the environment).
 */
import { z } from 'zod';
import { wholeNumberAtLeast } from './env-schema.js';

/** What a token may do: `read` only GETs; `reviewer` GETs and review cases (claim, decide, release); `operator` everything. */
export type ApiRole = 'read' | 'reviewer' | 'operator';

export interface ApiToken {
  /** Who holds it: named in the audit log, never the token itself. */
  readonly name: string;
  readonly role: ApiRole;
  readonly token: string;
}

export interface ServerConfig {
  /** Empty: no authentication, so the server binds loopback only. */
  readonly tokens: readonly ApiToken[];
  /** The folder (absolute) under which `POST /api/batches {path}` may name a manifest; undefined: uploads only. */
  readonly manifestRoot: string | undefined;
  /** Largest request body (an uploaded manifest), bytes. */
  readonly bodyLimitBytes: number;
}

/** Tokens shorter than this are refused: a bearer token is a password. */
export const MIN_TOKEN_LENGTH = 16;
export const DEFAULT_API_BODY_LIMIT = 64 * 1024 * 1024;

const token = z.string().min(MIN_TOKEN_LENGTH, `must be at least ${MIN_TOKEN_LENGTH} characters`).regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');

export const ServerEnvSchema = z.object({
  RESCREEN_API_TOKEN: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()))
    .pipe(token.optional()),
  RESCREEN_API_TOKENS: z
    .string()
    .optional()
    .transform((v, ctx): ApiToken[] => {
      const out: ApiToken[] = [];
      for (const [i, raw] of (v ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '').entries()) {
        const m = /^([A-Za-z0-9_.-]{1,64}):(read|reviewer|operator):(.+)$/.exec(raw);
        const checked = m ? token.safeParse(m[3]) : undefined;
        if (!m || !checked?.success) {
          // Never echo the entry: it holds a token.
          ctx.addIssue({ code: 'custom', message: `entry ${i + 1} must read name:read|reviewer|operator:token with a token of at least ${MIN_TOKEN_LENGTH} printable characters` });
          return z.NEVER;
        }
        out.push({ name: m[1]!, role: m[2] as ApiRole, token: checked.data });
      }
      return out;
    }),
  RESCREEN_SERVE_MANIFEST_ROOT: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()))
    .pipe(z.string().startsWith('/', 'must be an absolute path').optional()),
  RESCREEN_API_BODY_LIMIT: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? String(DEFAULT_API_BODY_LIMIT) : v.trim()))
    .transform((v, ctx) => wholeNumberAtLeast(v, 1024, ctx)),
});

/** The server's configuration, or the problems naming each bad variable (never its value: it may be a token). */
export function parseServerEnv(env: Readonly<Record<string, string | undefined>>): ServerConfig | { readonly problems: string[] } {
  const parsed = ServerEnvSchema.safeParse(env);
  if (!parsed.success) return { problems: parsed.error.issues.map((issue) => `${issue.path.join('.') || 'environment'} ${issue.message}`) };
  const e = parsed.data;
  const tokens = [...(e.RESCREEN_API_TOKEN !== undefined ? [{ name: 'token', role: 'operator' as const, token: e.RESCREEN_API_TOKEN }] : []), ...e.RESCREEN_API_TOKENS];
  return { tokens, manifestRoot: e.RESCREEN_SERVE_MANIFEST_ROOT, bodyLimitBytes: e.RESCREEN_API_BODY_LIMIT };
}
