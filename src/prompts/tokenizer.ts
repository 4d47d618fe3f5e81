import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { SegstreamError } from '../core/index.js';

/**
 * CLIP's byte-level BPE tokenizer, as openai/CLIP `simple_tokenizer.py` and `clip.tokenize`
 * implement it. The vocabulary is built from the merges list exactly as there: 256 byte
 * symbols, the same 256 with `</w>`, one token per merge, then `<|startoftext|>` and
 * `<|endoftext|>`; with CLIP's 48,894 merges that puts them at 49406 and 49407.
 *
 * Cleaning differs in one way: CLIP runs `ftfy.fix_text` (mojibake repair) first; we apply
 * only what it does to well-formed text that matters here (Unicode NFC), then, as CLIP does,
 * HTML-unescape twice, collapse whitespace and lowercase.
 */

export const SOT = '<|startoftext|>';
export const EOT = '<|endoftext|>';
/** CLIP's text context length, tokens. */
export const CLIP_CONTEXT_LENGTH = 77;
/** simple_tokenizer.py keeps merges[1 : 49152 - 256 - 2 + 1]: 48,894 merges. */
export const CLIP_MAX_MERGES = 49152 - 256 - 2;

/** GPT-2 / CLIP byte -> printable unicode character table, in CLIP's vocabulary order. */
export function bytesToUnicode(): { bytes: number[]; chars: string[] } {
  const bytes: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bytes.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bytes.push(b);
  for (let b = 0xae; b <= 0xff; b++) bytes.push(b);
  const codes = [...bytes];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bytes.includes(b)) {
      bytes.push(b);
      codes.push(256 + n);
      n++;
    }
  }
  return { bytes, chars: codes.map((c) => String.fromCodePoint(c)) };
}

const PATTERN = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/giu;

/** A Map: the entity name comes from the prompt text, so "&constructor;" must find nothing. */
const NAMED_ENTITIES: ReadonlyMap<string, string> = new Map([
  ['amp', '&'],
  ['lt', '<'],
  ['gt', '>'],
  ['quot', '"'],
  ['apos', "'"],
  ['nbsp', '\u00a0'],
]);

/** Python html.unescape for the entities that occur in practice (named basics and numeric). */
export function htmlUnescape(s: string): string {
  return s.replace(/&(#[0-9]+|#[xX][0-9a-fA-F]+|[a-zA-Z]+);/g, (m, body: string) => {
    if (body[0] === '#') {
      const cp = body[1] === 'x' || body[1] === 'X' ? Number.parseInt(body.slice(2), 16) : Number.parseInt(body.slice(1), 10);
      return Number.isFinite(cp) && cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
    }
    return NAMED_ENTITIES.get(body) ?? m;
  });
}

/** CLIP's basic_clean + whitespace_clean + lower(). */
export function cleanText(text: string): string {
  const basic = htmlUnescape(htmlUnescape(text.normalize('NFC'))).trim();
  return basic.replace(/\s+/g, ' ').trim().toLowerCase();
}

export interface ClipTokenizerOptions {
  /**
   * Token -> id (Hugging Face `vocab.json`). When absent the vocabulary is derived from the
   * merges as simple_tokenizer.py does; both agree for CLIP's own files.
   */
  readonly vocab?: Readonly<Record<string, number>>;
  /** Merges kept from the list (CLIP: 48,894). */
  readonly maxMerges?: number;
  /** Cached BPE results kept (distinct words). */
  readonly cacheSize?: number;
}

export class ClipTokenizer {
  readonly sotId: number;
  readonly eotId: number;
  readonly vocabSize: number;
  private readonly encoder: Map<string, number>;
  private readonly ranks: Map<string, number>;
  private readonly byteChar: string[];
  private readonly cache = new Map<string, string[]>();
  private readonly cacheSize: number;

  /** `merges`: one "left right" pair per entry, in rank order, without the version header. */
  constructor(merges: readonly string[], options: ClipTokenizerOptions = {}) {
    const max = options.maxMerges ?? CLIP_MAX_MERGES;
    const pairs: [string, string][] = [];
    for (const [i, line] of merges.slice(0, max).entries()) {
      const parts = line.split(/\s+/).filter((p) => p !== '');
      if (parts.length !== 2) {
        throw new SegstreamError('E_MODEL_CORRUPT', `CLIP BPE merge ${i + 1} must be two symbols separated by a space`, {
          expected: '"left right"',
          actual: line.length > 60 ? `${line.slice(0, 57)}...` : line,
        });
      }
      pairs.push([parts[0]!, parts[1]!]);
    }
    const { bytes, chars } = bytesToUnicode();
    this.byteChar = new Array<string>(256);
    bytes.forEach((b, i) => (this.byteChar[b] = chars[i]!));
    this.ranks = new Map(pairs.map(([a, b], i) => [`${a} ${b}`, i]));
    this.encoder = new Map();
    if (options.vocab) {
      for (const [tok, id] of Object.entries(options.vocab)) this.encoder.set(tok, id);
    } else {
      const vocab = [...chars, ...chars.map((c) => `${c}</w>`), ...pairs.map(([a, b]) => a + b), SOT, EOT];
      // Python's dict(zip(vocab, range)) keeps the last id of a repeated token; so does set().
      vocab.forEach((tok, id) => this.encoder.set(tok, id));
    }
    const sot = this.encoder.get(SOT);
    const eot = this.encoder.get(EOT);
    if (sot === undefined || eot === undefined) {
      throw new SegstreamError('E_MODEL_CORRUPT', 'the CLIP vocabulary lacks <|startoftext|> or <|endoftext|>', {
        expected: 'both special tokens',
        actual: { sot: sot ?? null, eot: eot ?? null },
      });
    }
    this.sotId = sot;
    this.eotId = eot;
    let maxId = 0;
    for (const id of this.encoder.values()) if (id > maxId) maxId = id;
    this.vocabSize = maxId + 1;
    this.cacheSize = options.cacheSize ?? 10_000;
  }

  /**
   * Parses a merges file's text (CLIP's `bpe_simple_vocab_16e6.txt`, or Hugging Face
   * `merges.txt`): a first line starting with `#` (the version header) is skipped, as are
   * empty lines.
   */
  static parseMerges(text: string): string[] {
    const lines = text.split(/\r?\n/);
    if (lines[0]?.startsWith('#') || lines[0]?.includes('#version')) lines.shift();
    return lines.filter((l) => l.trim() !== '');
  }

  /**
   * Loads `mergesPath` (plain or .gz, as CLIP ships it) and optionally a Hugging Face
   * `vocab.json`. A missing file is E_MODEL_NOT_FOUND; a malformed one E_MODEL_CORRUPT.
   */
  static async fromFiles(mergesPath: string, vocabJsonPath?: string, options: Omit<ClipTokenizerOptions, 'vocab'> = {}): Promise<ClipTokenizer> {
    const mergesBytes = await readAsset(mergesPath, 'CLIP BPE merges');
    let mergesText: string;
    try {
      mergesText = (isGzip(mergesBytes) ? gunzipSync(mergesBytes) : mergesBytes).toString('utf8');
    } catch (err) {
      throw new SegstreamError('E_MODEL_CORRUPT', `CLIP BPE merges ${mergesPath} cannot be decompressed: ${(err as Error).message}`, {
        expected: 'a text or gzip file',
        cause: err,
      });
    }
    let vocab: Record<string, number> | undefined;
    if (vocabJsonPath !== undefined) {
      const raw = (await readAsset(vocabJsonPath, 'CLIP vocab.json')).toString('utf8');
      try {
        const parsed: unknown = JSON.parse(raw);
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
        for (const v of Object.values(parsed)) if (!Number.isInteger(v)) throw new Error('ids must be integers');
        vocab = parsed as Record<string, number>;
      } catch (err) {
        throw new SegstreamError('E_MODEL_CORRUPT', `CLIP vocab ${vocabJsonPath} is not a token -> id JSON object: ${(err as Error).message}`, {
          expected: '{"token": id, ...}',
          cause: err,
        });
      }
    }
    try {
      return new ClipTokenizer(ClipTokenizer.parseMerges(mergesText), { ...options, ...(vocab ? { vocab } : {}) });
    } catch (err) {
      if (err instanceof SegstreamError) {
        throw new SegstreamError(err.code, `${mergesPath}: ${err.message}`, { expected: err.expected, actual: err.actual, cause: err });
      }
      throw err;
    }
  }

  /** BPE of one pre-token (already byte-encoded): the merged symbols, the last ending `</w>`. */
  bpe(token: string): string[] {
    if (token === SOT || token === EOT) return [token];
    const cached = this.cache.get(token);
    if (cached) return cached;
    const chars = [...token];
    let word = [...chars.slice(0, -1), `${chars[chars.length - 1]!}</w>`];
    while (word.length > 1) {
      // The adjacent pair with the lowest merge rank.
      let best: string | null = null;
      let bestRank = Infinity;
      for (let i = 0; i < word.length - 1; i++) {
        const r = this.ranks.get(`${word[i]!} ${word[i + 1]!}`);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = `${word[i]!} ${word[i + 1]!}`;
        }
      }
      if (best === null) break;
      const sp = best.indexOf(' ');
      const first = best.slice(0, sp);
      const second = best.slice(sp + 1);
      const next: string[] = [];
      for (let i = 0; i < word.length; ) {
        if (word[i] === first && i < word.length - 1 && word[i + 1] === second) {
          next.push(first + second);
          i += 2;
        } else {
          next.push(word[i]!);
          i += 1;
        }
      }
      word = next;
    }
    if (this.cache.size >= this.cacheSize) this.cache.clear();
    this.cache.set(token, word);
    return word;
  }

  /** Token ids of a text, without start/end tokens (simple_tokenizer.encode). */
  encode(text: string): number[] {
    const out: number[] = [];
    const utf8 = new TextEncoder();
    for (const m of cleanText(text).matchAll(PATTERN)) {
      const piece = m[0];
      const token = piece === SOT || piece === EOT ? piece : Array.from(utf8.encode(piece), (b) => this.byteChar[b]!).join('');
      for (const sym of this.bpe(token)) {
        const id = this.encoder.get(sym);
        if (id === undefined) {
          throw new SegstreamError('E_MODEL_CORRUPT', `CLIP vocabulary has no token '${sym}' that its merges produce`, {
            expected: 'a vocabulary matching the merges',
            actual: sym,
          });
        }
        out.push(id);
      }
    }
    return out;
  }

  /**
   * clip.tokenize for one text: [SOT, ...encode(text), EOT] zero-padded to `contextLength`.
   * Too long: truncated with EOT as the last token (clip.tokenize(truncate=True)); `length`
   * counts the real tokens, EOT included.
   */
  tokenize(text: string, contextLength = CLIP_CONTEXT_LENGTH, padId = 0): { ids: Int32Array; length: number } {
    const tokens = [this.sotId, ...this.encode(text), this.eotId];
    if (tokens.length > contextLength) {
      tokens.length = contextLength;
      tokens[contextLength - 1] = this.eotId;
    }
    const ids = new Int32Array(contextLength).fill(padId);
    ids.set(tokens);
    return { ids, length: tokens.length };
  }
}

async function readAsset(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new SegstreamError('E_MODEL_NOT_FOUND', `${what} file ${path} cannot be read: ${(err as Error).message}`, {
      expected: 'a readable file',
      cause: err,
    });
  }
}

function isGzip(b: Uint8Array): boolean {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
}
