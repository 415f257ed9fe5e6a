/**
 * What the simulated engines "see" in a piece of media: a function of its directives (directives.ts)
 * and, for everything the directives leave open, of its sha256 — the same bytes always get the same
 * answer.
 */
import type { SimDirectives } from './directives.js';
import { Prng } from './prng.js';

// OOTO's engine error table is the vendor's (src/vendors/ooto/engine-errors.ts); re-exported for the simulator's users.
export { OOTO_ENGINE_ERRORS, type OotoEngineCode } from '../vendors/ooto/engine-errors.js';

/** OOTO's deepfake threshold: `fine` = score ≥ this. */
export const DEEPFAKE_FINE_THRESHOLD = 0.9;
/** Liveness `fine` = score ≥ this. */
export const LIVENESS_FINE_THRESHOLD = 0.5;
/** GLAIR says `fake` when its confidence (the fake probability) is ≥ this. */
export const GLAIR_FAKE_THRESHOLD = 0.5;
/** Share of directive-free media the simulator calls deepfake. */
export const DEFAULT_DEEPFAKE_SHARE = 0.15;

/** The face engine's refusal implied by the directives (5, 6 or 9), if any. */
export function faceEngineError(d: SimDirectives | null): 5 | 6 | 9 | null {
  if (!d) return null;
  if (d.noface || d.faces === 0) return 5;
  if (d.faces !== undefined && d.faces >= 2) return 6;
  if (d.small) return 9;
  return null;
}

/**
 * Deepfake score, 0–1, higher = more genuine: `score=` exactly; else `fake` → 0.02–0.45,
 * `genuine` or any other directive → 0.91–0.99; no directive → deepfake for about 15% of hashes.
 */
export function deepfakeScore(digest: Buffer, d: SimDirectives | null): number {
  if (d?.score !== undefined) return d.score;
  const fake = d ? d.fake : digest.readUInt32BE(4) / 4_294_967_296 < DEFAULT_DEEPFAKE_SHARE;
  const rng = Prng.fromDigest(digest, 2);
  return fake ? rng.between(0.02, 0.45) : rng.between(0.91, 0.99);
}

/** How a score is moved before it is answered: the scripted shift and noise (identity by default). */
export type MoveScore = (score: number) => number;
const unmoved: MoveScore = (score) => score;

/** A deepfake score moved by `shift` and a noise draw in [−noise, +noise], clamped to [0, 1]. */
export function moveScore(score: number, shift: number, noise: number, random: () => number): number {
  if (shift === 0 && noise === 0) return score;
  const moved = score + shift + (noise === 0 ? 0 : (random() * 2 - 1) * noise);
  return Math.round(Math.min(1, Math.max(0, moved)) * 1e12) / 1e12;
}

/** GLAIR's read of the same media: the fake probability `1 − score`, and its label. */
export function glairRead(digest: Buffer, d: SimDirectives | null, move: MoveScore = unmoved): { confidence: number; value: 'real' | 'fake' } {
  const confidence = Math.round((1 - move(deepfakeScore(digest, d))) * 1e12) / 1e12;
  return { confidence, value: confidence >= GLAIR_FAKE_THRESHOLD ? 'fake' : 'real' };
}

/** A `{score, fine}` pair as OOTO writes them. */
export interface ScoreFine {
  readonly score: number;
  readonly fine: boolean;
}

export function ootoDeepfake(digest: Buffer, d: SimDirectives | null, move: MoveScore = unmoved): ScoreFine {
  const score = move(deepfakeScore(digest, d));
  return { score, fine: score >= DEEPFAKE_FINE_THRESHOLD };
}

export function liveness(digest: Buffer, d: SimDirectives | null): ScoreFine {
  const rng = Prng.fromDigest(digest, 3);
  const fake = d?.fake === true || (d?.score !== undefined && d.score < 0.5);
  const score = fake ? rng.between(0.05, 0.45) : rng.between(0.75, 0.99);
  return { score, fine: score >= LIVENESS_FINE_THRESHOLD };
}

/** Everything the face detector reports about the one face. */
export interface FaceReading {
  readonly box: { readonly x: number; readonly y: number; readonly w: number; readonly h: number };
  readonly landmarks: readonly (readonly [number, number])[];
  readonly pitch: number;
  readonly yaw: number;
  readonly roll: number;
  /** Quality metrics in the deepfake answer's order; keys as OOTO's deepfake answer writes them (camelCase). */
  readonly metrics: readonly QualityMetric[];
  readonly demography: { readonly age: number; readonly gender: 'male' | 'female'; readonly race: string };
}

export interface QualityMetric {
  /** camelCase key (deepfake answer). */
  readonly key: string;
  /** snake_case key (identify answer). */
  readonly snakeKey: string;
  /** `value` for uniformity/exposure/contrast, `score` for the rest (as the seeds show). */
  readonly field: 'value' | 'score';
  readonly amount: number;
  readonly fine: boolean;
}

const RACES = ['white', 'black', 'asian', 'indian', 'latino hispanic', 'middle eastern'] as const;

/** Reads the face from the hash. `width`/`height` are the picture's size in pixels (box and landmarks fall inside it). */
export function readFace(digest: Buffer, width: number, height: number): FaceReading {
  const rng = Prng.fromDigest(digest, 1);
  const w = Math.max(1, Math.round(width * rng.between(0.45, 0.65)));
  const h = Math.max(1, Math.min(height, Math.round(w * rng.between(1.15, 1.3))));
  const x = Math.round((width - w) * rng.between(0.3, 0.7));
  const y = Math.round(Math.max(0, height - h) * rng.between(0.3, 0.7));
  const at = (fx: number, fy: number): [number, number] => [Math.round(x + w * fx), Math.round(y + h * fy)];
  const landmarks = [at(0.3, 0.4), at(0.7, 0.4), at(0.5, 0.6), at(0.33, 0.78), at(0.67, 0.78)];
  const metric = (key: string, snakeKey: string, field: 'value' | 'score', min: number, max: number, fine: (v: number) => boolean): QualityMetric => {
    const amount = rng.between(min, max);
    return { key, snakeKey, field, amount, fine: fine(amount) };
  };
  const low = (v: number): boolean => v < 0.5;
  const metrics: QualityMetric[] = [
    metric('uniformity', 'uniformity', 'value', 0.6, 0.9, (v) => v >= 0.5),
    metric('exposure', 'exposure', 'value', 0.45, 0.8, (v) => v >= 0.3 && v <= 0.9),
    metric('contrast', 'contrast', 'value', 0.5, 0.85, (v) => v >= 0.4),
    metric('flare', 'flare', 'score', 0, 0.1, low),
    metric('blur', 'blur', 'score', 0, 0.01, low),
    metric('macroblocks', 'macroblocks', 'score', 0, 1e-4, low),
    metric('distortion', 'distortion', 'score', 0, 0.6, low),
    metric('occlusion', 'occlusion', 'score', 0, 0.05, low),
    metric('emotion', 'emotion', 'score', 0, 0.1, low),
    metric('leftEyeClosed', 'left_eye_closed', 'score', 0, 0.05, low),
    metric('rightEyeClosed', 'right_eye_closed', 'score', 0, 0.05, low),
    metric('crfiqa', 'crfiqa', 'score', 0.5, 0.75, (v) => v >= 0.55),
  ];
  return {
    box: { x, y, w, h },
    landmarks,
    pitch: rng.between(-12, 12),
    yaw: rng.between(-12, 12),
    roll: rng.between(-4, 4),
    metrics,
    demography: { age: 18 + rng.int(58), gender: rng.next() < 0.5 ? 'male' : 'female', race: rng.pick(RACES) },
  };
}

/** `result.quality` of OOTO's deepfake answer (camelCase keys, head pose first, as the seed). */
export function qualityCamel(face: FaceReading): Record<string, unknown> {
  const out: Record<string, unknown> = { pitch: face.pitch, yaw: face.yaw, roll: face.roll };
  for (const m of face.metrics) out[m.key] = m.field === 'value' ? { value: m.amount, fine: m.fine } : { score: m.amount, fine: m.fine };
  return out;
}

/** Key order of `result.face.quality` in OOTO's identify sample. */
const SNAKE_ORDER = [
  'uniformity',
  'exposure',
  'contrast',
  'flare',
  'blur',
  'occlusion',
  'macroblocks',
  'emotion',
  'right_eye_closed',
  'left_eye_closed',
  'crfiqa',
  'distortion',
] as const;

/** `result.face.quality` of OOTO's identify answer (snake_case keys, then demography and head pose, in the seed's order). */
export function qualitySnake(face: FaceReading): Record<string, unknown> {
  const byKey = new Map(face.metrics.map((m) => [m.snakeKey, m]));
  const out: Record<string, unknown> = {};
  for (const key of SNAKE_ORDER) {
    const m = byKey.get(key);
    if (m) out[key] = m.field === 'value' ? { value: m.amount, fine: m.fine } : { score: m.amount, fine: m.fine };
  }
  out.gender = face.demography.gender;
  out.age = face.demography.age;
  out.race = face.demography.race;
  out.pitch = face.pitch;
  out.yaw = face.yaw;
  out.roll = face.roll;
  return out;
}
