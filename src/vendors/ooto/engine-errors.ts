/** OOTO's engine errors (HTTP 400 `result.code` → `result.info`), as seeds/000 and 002 document them. */
export const OOTO_ENGINE_ERRORS = {
  1: 'photo should not be empty',
  2: 'wrong mime-type in input data',
  3: 'photo size is 0 bytes',
  4: 'can not decode image, check it is valid jpeg or png file',
  5: 'can not detect face',
  6: 'more than one face detected on photo',
  9: 'can not extract features from sample, probably it is too small',
} as const;
export type OotoEngineCode = keyof typeof OOTO_ENGINE_ERRORS;
