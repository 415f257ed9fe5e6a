/**
 * GLAIR (api.vision.glair.ai) simulated: `POST /face/v1/deepfake` (multipart `video`) and
 * `POST /face/v1/deepfake/images` (JSON `{"frames": [base64…]}`). Every answer carries a `Request-Id`.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { GLAIR_MAX_BYTES } from '../vendors/glair/limits.js';
import { readBody, readMultipart } from './body.js';
import type { SimDirectives } from './directives.js';
import { isJpeg, isMp4, isPng } from './media-check.js';
import type { ResolvedSettings } from './options.js';
import { glairRead } from './outcomes.js';
import type { Prepared, Reply, RouteContext, SimulatedVendor, VendorProtocol, VendorRoute } from './route.js';

export const GLAIR_PREFIX = '/face/v1/';

export const glairProtocol: VendorProtocol = {
  vendor: 'glair',
  prefix: GLAIR_PREFIX,
  authorized(req: IncomingMessage, settings: ResolvedSettings): boolean {
    const { username, password, apiKey } = settings.credentials.glair;
    if (req.headers['x-api-key'] !== apiKey) return false;
    const auth = req.headers.authorization;
    if (auth === undefined || !/^basic /i.test(auth)) return false;
    const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 && decoded.slice(0, colon) === username && decoded.slice(colon + 1) === password;
  },
  unauthorized: () => glairStatus(401, 'UNAUTHORIZED', 'Missing API key or wrong username/password'),
  // GLAIR sends no Retry-After: its docs ask for exponential backoff.
  rateLimited: () => glairStatus(429, 'TOO_MANY_REQUESTS', 'Too many requests, retry with exponential backoff'),
  serverError: (status) => glairStatus(status, 'ERROR', status === 503 ? 'Service Unavailable' : 'Internal Server Error'),
  notFound: () => glairStatus(404, 'NOT_FOUND', 'Not Found'),
  commonHeaders: () => ({ 'Request-Id': randomUUID() }),
};

function glairStatus(httpStatus: number, status: string, reason: string): Reply {
  return { status: httpStatus, body: { status, reason } };
}

const NO_FILE = glairStatus(400, 'ERROR', 'No file in request body');
const TOO_LARGE = glairStatus(400, 'FAILED', 'File too large');

function prepared(reply: Reply, sha256: string | null): Prepared {
  return { mediaSha256: sha256, answer: () => reply };
}

/** The success answer (current or legacy shape), or FAILED when no face is found. */
function verdict(digest: Buffer, directives: SimDirectives | null, ctx: RouteContext): Reply {
  if (directives?.noface === true || directives?.faces === 0) {
    return { status: 200, body: { status: 'FAILED', reason: 'No face detected in the input' } };
  }
  const read = glairRead(digest, directives, (v) => ctx.moveScore('glair', v));
  if (ctx.settings().glairLegacyShape) {
    return { status: 200, body: { status: 'SUCCESS', result: { deepfake_status: read.value, confidence_score: read.confidence } } };
  }
  return {
    status: 200,
    body: { read: { deepfake: { confidence: read.confidence, value: read.value } }, reason: 'File Successfully Read', status: 'SUCCESS' },
  };
}

const videoRoute: VendorRoute = {
  vendor: 'glair',
  endpoint: 'glair-video',
  path: `${GLAIR_PREFIX}deepfake`,
  async prepare(req, _query, ctx) {
    const form = await readMultipart(req, 'video');
    const file = form.file;
    if (file === null || file.size === 0) return prepared(NO_FILE, file?.sha256 ?? null);
    if (file.size > GLAIR_MAX_BYTES) return prepared(TOO_LARGE, file.sha256);
    if (!isMp4(file.bytes)) {
      return prepared(glairStatus(415, 'FILE_INVALID_FORMAT', 'Unsupported file type, expected an mp4 video'), file.sha256);
    }
    const directives = ctx.directivesOf(file.bytes, file.sha256);
    return { mediaSha256: file.sha256, answer: () => verdict(file.digest, directives, ctx) };
  },
};

const framesRoute: VendorRoute = {
  vendor: 'glair',
  endpoint: 'glair-frames',
  path: `${GLAIR_PREFIX}deepfake/images`,
  async prepare(req, _query, ctx) {
    const body = await readBody(req);
    if (!body.complete) return prepared(TOO_LARGE, null);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.bytes.toString('utf8'));
    } catch {
      return prepared(body.size === 0 ? NO_FILE : glairStatus(400, 'ERROR', 'Request body is not valid JSON'), null);
    }
    const frames = typeof parsed === 'object' && parsed !== null ? (parsed as { frames?: unknown }).frames : undefined;
    if (!Array.isArray(frames) || frames.length === 0) return prepared(NO_FILE, null);
    const hash = createHash('sha256');
    const decoded: Buffer[] = [];
    let total = 0;
    let badFrame = -1;
    for (const [i, frame] of frames.entries()) {
      const bytes = typeof frame === 'string' ? decodeFrame(frame) : null;
      if (bytes === null || !(isJpeg(bytes) || isPng(bytes))) {
        if (badFrame < 0) badFrame = i;
        if (bytes === null) continue;
      }
      hash.update(bytes);
      decoded.push(bytes);
      total += bytes.length;
    }
    const digest = hash.digest();
    const sha256 = digest.toString('hex');
    if (total === 0 && badFrame < 0) return prepared(NO_FILE, sha256);
    if (total > GLAIR_MAX_BYTES) return prepared(TOO_LARGE, sha256);
    if (badFrame >= 0) {
      return prepared(glairStatus(415, 'FILE_INVALID_FORMAT', `Frame ${badFrame} is not a base64 JPEG or PNG image`), sha256);
    }
    const directives = ctx.directivesOf(decoded.length === 1 ? decoded[0]! : Buffer.concat(decoded, total), sha256);
    return { mediaSha256: sha256, answer: () => verdict(digest, directives, ctx) };
  },
};

/** Base64 (optionally a `data:` URL) → bytes. */
function decodeFrame(frame: string): Buffer {
  const comma = frame.startsWith('data:') ? frame.indexOf(',') : -1;
  return Buffer.from(comma >= 0 ? frame.slice(comma + 1) : frame, 'base64');
}

export const GLAIR_ROUTES: readonly VendorRoute[] = [videoRoute, framesRoute];

/** GLAIR as the simulator plays it (the GLAIR vendor definition's `simulator`). */
export const GLAIR_SIMULATION: SimulatedVendor = { protocol: glairProtocol, routes: GLAIR_ROUTES };
