import { z } from 'zod';
import { ERROR_CODES } from '../core/errors.js';
import { MAX_REQUEST_ID_CHARS } from './limits.js';

/** How a subscription wants masks: COCO RLE (default), polygons in source px, or none. */
export const MASK_FORMATS = ['rle', 'polygons', 'none'] as const;
export type MaskFormat = (typeof MASK_FORMATS)[number];
export const maskFormatSchema = z.enum(MASK_FORMATS);

/** A client's request id, echoed in the reply (ping, prompt, prompt.clear). */
export const requestIdSchema = z.union([z.string().max(MAX_REQUEST_ID_CHARS), z.number()]);
export type RequestId = z.infer<typeof requestIdSchema>;

export const intSchema = z.number().int();
export const countSchema = z.number().int().min(0);

/** x1, y1, x2, y2 in source-frame px. */
export const boxSchema = z.tuple([z.number(), z.number(), z.number(), z.number()]);

/** An error as clients get it: a stable code (docs/errors.md), a message, and a short summary of what was expected and given. */
export const errorBodySchema = z.strictObject({
  code: z.enum(ERROR_CODES),
  message: z.string(),
  expected: z.unknown().optional(),
  actual: z.unknown().optional(),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;
