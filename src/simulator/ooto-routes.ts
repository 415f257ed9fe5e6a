/**
 * OOTO (cloud.ooto-ai.com) simulated: `POST /api/v1.0/deepfake`, `/identify`, `/add`, with the shapes,
 * engine codes and texts of the vendor's documents.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { readMultipart, type FilePart } from './body.js';
import type { SimDirectives } from './directives.js';
import { checkImage, isWrongPhotoMime } from './media-check.js';
import type { ResolvedSettings } from './options.js';
import {
  OOTO_ENGINE_ERRORS,
  faceEngineError,
  liveness,
  ootoDeepfake,
  qualityCamel,
  qualitySnake,
  readFace,
  type OotoEngineCode,
} from './outcomes.js';
import type { Prepared, Reply, RouteContext, SimulatedVendor, VendorProtocol, VendorRoute } from './route.js';
import { identityOf } from './templates.js';

export const OOTO_PREFIX = '/api/v1.0/';

export const ootoProtocol: VendorProtocol = {
  vendor: 'ooto',
  prefix: OOTO_PREFIX,
  authorized(req: IncomingMessage, settings: ResolvedSettings): boolean {
    const { appId, appKey } = settings.credentials.ooto;
    return req.headers['app-id'] === appId && req.headers['app-key'] === appKey;
  },
  unauthorized: () => ootoError(401, 'invalid or missing APP-ID / APP-KEY'),
  rateLimited: (retryAfterMs) => ({
    ...ootoError(429, 'too many requests'),
    headers: { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) },
  }),
  serverError: (status) => ootoError(status, status === 503 ? 'service unavailable' : 'internal server error'),
  notFound: () => ootoError(404, 'not found'),
  commonHeaders: () => undefined,
};

/** A non-engine OOTO error (401, 404, 429, 5xx): the vendor documents none, so: transaction id + status + info, no code. */
function ootoError(status: number, info: string): Reply {
  return { status, body: { transactionId: randomUUID(), result: { status: 'error', info } } };
}

/** HTTP 400 with an engine code, exactly as the seeds show. */
export function engineError(code: OotoEngineCode): Reply {
  return { status: 400, body: { transactionId: randomUUID(), result: { status: 'error', code, info: OOTO_ENGINE_ERRORS[code] } } };
}

/** A photo the engine accepted: bytes, what they ask for, and the picture size. */
interface AcceptedPhoto {
  readonly file: FilePart;
  readonly directives: SimDirectives | null;
  readonly width: number;
  readonly height: number;
}

/** Runs the engine's checks in the documented order; returns the engine code of a refusal or the accepted photo. */
function examine(file: FilePart | null, fieldValue: string | null, ctx: RouteContext): AcceptedPhoto | OotoEngineCode | 'too-large' {
  if (file === null) {
    if (fieldValue === null) return 1;
    return fieldValue.length === 0 ? 3 : 2;
  }
  if (file.size === 0) return 3;
  if (file.truncated) return 'too-large';
  if (isWrongPhotoMime(file.mimeType)) return 2;
  const image = checkImage(file.bytes);
  if (image.kind === 'not-image') return 2;
  if (image.kind === 'undecodable') return 4;
  const directives = ctx.directivesOf(file.bytes, file.sha256);
  const refused = faceEngineError(directives);
  if (refused !== null) return refused;
  return { file, directives, width: image.width, height: image.height };
}

type PhotoRead =
  | { readonly ok: false; readonly refusal: Reply; readonly sha256: string | null }
  | { readonly ok: true; readonly photo: AcceptedPhoto; readonly fields: ReadonlyMap<string, string> };

/** Reads the `photo` part and examines it: the refusal, or the photo (and the other form fields). */
async function readPhoto(req: IncomingMessage, ctx: RouteContext): Promise<PhotoRead> {
  const form = await readMultipart(req, 'photo');
  const result = examine(form.file, form.fieldValue, ctx);
  const sha256 = form.file?.sha256 ?? null;
  if (result === 'too-large') return { ok: false, refusal: ootoError(413, 'request entity too large'), sha256 };
  if (typeof result === 'number') return { ok: false, refusal: engineError(result), sha256 };
  return { ok: true, photo: result, fields: form.fields };
}

function refused(reply: Reply, sha256: string | null): Prepared {
  return { mediaSha256: sha256, answer: () => reply };
}

function flag(query: URLSearchParams, name: string): boolean {
  const v = query.get(name)?.toLowerCase();
  return v === 'true' || v === '1' || v === 'yes';
}

const deepfakeRoute: VendorRoute = {
  vendor: 'ooto',
  endpoint: 'ooto-deepfake',
  path: `${OOTO_PREFIX}deepfake`,
  async prepare(req, _query, ctx) {
    const read = await readPhoto(req, ctx);
    if (!read.ok) return refused(read.refusal, read.sha256);
    const { file, directives, width, height } = read.photo;
    return {
      mediaSha256: file.sha256,
      answer: () => {
        const face = readFace(file.digest, width, height);
        return {
          status: 200,
          body: {
            transactionId: randomUUID(),
            result: {
              deepfake: ootoDeepfake(file.digest, directives, (v) => ctx.moveScore('ooto', v)),
              quality: qualityCamel(face),
              demography: face.demography,
              box: face.box,
              landmarks: face.landmarks,
            },
          },
        };
      },
    };
  },
};

const identifyRoute: VendorRoute = {
  vendor: 'ooto',
  endpoint: 'ooto-identify',
  path: `${OOTO_PREFIX}identify`,
  async prepare(req, query, ctx) {
    const read = await readPhoto(req, ctx);
    if (!read.ok) return refused(read.refusal, read.sha256);
    const { file, directives, width, height } = read.photo;
    const withLiveness = flag(query, 'check_liveness');
    const withDeepfake = flag(query, 'check_deepfake');
    return {
      mediaSha256: file.sha256,
      answer: () => {
        const face = readFace(file.digest, width, height);
        const match = ctx.templates.identify(identityOf(directives?.face, file.sha256), file.sha256);
        return {
          status: 200,
          body: {
            transactionId: randomUUID(),
            result: {
              templateId: match.templateId,
              similarity: match.similarity,
              face: {
                box: face.box,
                landmarks: face.landmarks,
                ...(withLiveness ? { liveness: liveness(file.digest, directives) } : {}),
                ...(withDeepfake ? { deepfake: ootoDeepfake(file.digest, directives, (v) => ctx.moveScore('ooto', v)) } : {}),
                quality: qualitySnake(face),
              },
            },
          },
        };
      },
    };
  },
};

const addRoute: VendorRoute = {
  vendor: 'ooto',
  endpoint: 'ooto-add',
  path: `${OOTO_PREFIX}add`,
  async prepare(req, _query, ctx) {
    const read = await readPhoto(req, ctx);
    if (!read.ok) return refused(read.refusal, null);
    const { file, directives } = read.photo;
    const requested = read.fields.get('templateId') ?? read.fields.get('template_id');
    return {
      mediaSha256: null,
      answer: () => {
        const templateId = ctx.templates.add(identityOf(directives?.face, file.sha256), file.sha256, requested);
        return { status: 200, body: { transactionId: randomUUID(), result: { templateId } } };
      },
    };
  },
};

export const OOTO_ROUTES: readonly VendorRoute[] = [deepfakeRoute, identifyRoute, addRoute];

/** OOTO as the simulator plays it (the OOTO vendor definition's `simulator`). */
export const OOTO_SIMULATION: SimulatedVendor = { protocol: ootoProtocol, routes: OOTO_ROUTES };
