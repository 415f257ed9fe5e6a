/**
 * The one typed list of checks, shared by the producer (validation, routing) and the worker
 * (processor lookup). Adding a check means adding it here and a module in `jobs/`; the worker
 * refuses to start if a check has no processor.
 */
/** A check's answer, as rescreen states it (README: the table of checks). */
export type Verdict = 'genuine' | 'deepfake' | 'match' | 'no-match';
export const VERDICTS: readonly Verdict[] = ['genuine', 'deepfake', 'match', 'no-match'];

/** Verdicts of a deepfake check: the good one first. */
const DEEPFAKE = ['genuine', 'deepfake'] as const satisfies readonly Verdict[];

export const CHECKS = {
  'ooto-deepfake': { vendor: 'ooto', input: 'photo', verdicts: DEEPFAKE, description: 'OOTO deepfake check of one photo' },
  'ooto-identify': {
    vendor: 'ooto',
    input: 'photo',
    verdicts: ['match', 'no-match'],
    description: 'OOTO 1:N identification of one photo',
    recordFields: ['templateId'],
  },
  'glair-video': { vendor: 'glair', input: 'video', verdicts: DEEPFAKE, description: 'GLAIR deepfake check of one mp4 video' },
  'glair-frames': { vendor: 'glair', input: 'frames', verdicts: DEEPFAKE, description: 'GLAIR deepfake check of a list of frames' },
} as const satisfies Record<string, CheckSpec>;

export type Vendor = 'ooto' | 'glair';
export const VENDORS: readonly Vendor[] = ['ooto', 'glair'];

/** What a check takes: one photo (JPEG/PNG), one mp4 video, or a list of JPEG/PNG frames. */
export type CheckInput = 'photo' | 'video' | 'frames';

export interface CheckSpec {
  readonly vendor: Vendor;
  readonly input: CheckInput;
  readonly description: string;
  /** The verdicts the check can give, the good (expected at onboarding) one first. */
  readonly verdicts: readonly [Verdict, Verdict];
  /** Fields the check adds to its records (ooto-identify: the best-matching `templateId`). */
  readonly recordFields?: readonly 'templateId'[];
}

export type CheckName = keyof typeof CHECKS;
export const CHECK_NAMES = Object.keys(CHECKS) as CheckName[];

export function isCheckName(value: unknown): value is CheckName {
  return typeof value === 'string' && Object.hasOwn(CHECKS, value);
}

export function isVendor(value: unknown): value is Vendor {
  return typeof value === 'string' && (VENDORS as readonly string[]).includes(value);
}

export function vendorOf(check: CheckName): Vendor {
  return CHECKS[check].vendor;
}

/** Largest request body the GLAIR endpoints accept (video file, or frames in total), bytes. */
export const GLAIR_MAX_BYTES = 6 * 1024 * 1024;
