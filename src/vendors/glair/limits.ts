/** Largest request body the GLAIR endpoints accept (video file, or frames in total), bytes (seed: Deepfake Detection). */
export const GLAIR_MAX_BYTES = 6 * 1024 * 1024;
