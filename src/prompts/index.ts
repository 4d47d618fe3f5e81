export { PROMPT_ERROR_CODES, promptError, type PromptErrorCode } from './errors.js';
export {
  DEFAULT_PROMPT_LIMITS,
  PROMPT_MESSAGE_TYPES,
  parsePrompt,
  parsePromptMessage,
  promptClearMessageSchema,
  promptClientMessageSchema,
  promptMessageSchema,
  validatePrompt,
  type PointLabel,
  type Prompt,
  type PromptClearMessage,
  type PromptClientMessage,
  type PromptLimits,
  type PromptMessage,
  type PromptMessageType,
} from './schema.js';
export {
  DEFAULT_SYNONYMS,
  detectionContains,
  maskBoxIou,
  resolveClassQuery,
  select,
  selectByBox,
  selectByClassName,
  selectByPoints,
  selectSync,
  textCandidates,
  trackIdsOf,
  type SelectContext,
  type Selection,
  type SelectionMethod,
  type SynonymTable,
  type TextSelector,
} from './select.js';
export {
  DEFAULT_TARGET_OPTIONS,
  TargetRegistries,
  TargetRegistry,
  type AnnotateResult,
  type EndedTarget,
  type KnownTrack,
  type Reattachment,
  type TargetInfo,
  type TargetRegistryOptions,
} from './targets.js';
export { CLIP_MEAN, CLIP_STD, clipPreprocess, maskBounds, resizeAndCenterCrop, segmentCrop, type RgbImage, type SegmentCropOptions } from './image.js';
export { CLIP_CONTEXT_LENGTH, CLIP_MAX_MERGES, ClipTokenizer, EOT, SOT, bytesToUnicode, cleanText, htmlUnescape, type ClipTokenizerOptions } from './tokenizer.js';
export { ClipTextSelector, DEFAULT_CLIP_OPTIONS, dot, l2Normalize, rankByText, softmax, type ClipFiles, type ClipOptions } from './clip.js';
export { ClipThreadSelector } from './clipThread.js';
