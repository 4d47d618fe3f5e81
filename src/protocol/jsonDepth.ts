const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/**
 * How deeply a JSON text nests arrays and objects (`0` for `7`, `1` for `{"type":"ping"}`,
 * `3` for `{"points":[[1,2,1]]}`), counted on the text in one pass without parsing it, so a
 * hostile message can be refused before JSON.parse or anything recursive sees it. Brackets
 * inside strings do not count. Counting stops as soon as the depth exceeds `stopAbove`, so
 * the result is then `stopAbove + 1`. The text need not be valid JSON; for invalid text the
 * count is a bound, not a meaning.
 */
export function jsonDepth(text: string, stopAbove = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
      continue;
    }
    if (c === QUOTE) inString = true;
    else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      depth++;
      if (depth > max) {
        max = depth;
        if (max > stopAbove) return max;
      }
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) depth--;
  }
  return max;
}
