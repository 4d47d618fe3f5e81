import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { bytesToUnicode, cleanText, ClipTokenizer, CLIP_MAX_MERGES } from '../../../src/prompts/tokenizer.js';

const dir = mkdtempSync(join(tmpdir(), 'segstream-bpe-'));
/** Id of a single byte symbol: its position in CLIP's byte table, +256 with `</w>`. */
const { bytes } = bytesToUnicode();
const byteId = (ch: string, endOfWord = true): number => bytes.indexOf(ch.charCodeAt(0)) + (endOfWord ? 256 : 0);

describe('byte table (bytes_to_unicode)', () => {
  it('maps all 256 bytes to distinct printable characters, printable ASCII first, space to Ġ', () => {
    const { bytes: b, chars } = bytesToUnicode();
    expect(new Set(b).size).toBe(256);
    expect(new Set(chars).size).toBe(256);
    expect([b[0], chars[0]]).toEqual([0x21, '!']);
    expect(chars[b.indexOf(0x20)]).toBe('\u0120');
    expect(chars[b.indexOf(0x00)]).toBe('\u0100');
  });
});

describe('ClipTokenizer', () => {
  it("without merges 'a' is CLIP's token 320 and '!' 256, as in the real vocabulary", () => {
    const t = new ClipTokenizer([]);
    expect(t.encode('a')).toEqual([320]);
    expect(t.encode('!')).toEqual([256]);
    expect([t.sotId, t.eotId, t.vocabSize]).toEqual([512, 513, 514]);
  });

  it("CLIP's 48,894-merge file puts <|startoftext|> at 49406 and <|endoftext|> at 49407, skipping the header and extra lines", async () => {
    const lines = Array.from({ length: CLIP_MAX_MERGES + 500 }, (_, i) => `x${i} y${i}`);
    const p = join(dir, 'big.txt');
    writeFileSync(p, `"bpe_simple_vocab_16e6.txt#version: 0.2\n${lines.join('\n')}\n`);
    const t = await ClipTokenizer.fromFiles(p);
    expect([t.sotId, t.eotId, t.vocabSize]).toEqual([49406, 49407, 49408]);
    expect(t.tokenize('a').ids.slice(0, 4)).toEqual(Int32Array.from([49406, 320, 49407, 0]));
  });

  it('applies merges by rank, lowest first, ending the word with </w>', () => {
    const t = new ClipTokenizer(['r e', 're d</w>']);
    expect(t.bpe('red')).toEqual(['red</w>']);
    expect(t.encode('Red')).toEqual([512 + 1]);
    expect(t.encode('reds')).toEqual([512, byteId('d', false), byteId('s')]);
    // With 'e d</w>' ranked before 'r e' the word splits differently and 're' never forms.
    const u = new ClipTokenizer(['e d</w>', 'r e']);
    expect(u.bpe('red')).toEqual(['r', 'ed</w>']);
    expect(u.encode('red')).toEqual([byteId('r', false), 512]);
  });

  it('merges every occurrence of the best pair in one step, left to right without overlap', () => {
    const t = new ClipTokenizer(['a a', 'aa aa</w>', 'a a</w>']);
    // a a a a</w> -> aa a a</w> (a|a</w> is another pair) -> aa aa</w> -> aaaa</w>
    expect(t.bpe('aaaa')).toEqual(['aaaa</w>']);
    // a a a a a</w> -> aa aa a</w>, and no merge joins those.
    expect(t.bpe('aaaaa')).toEqual(['aa', 'aa', 'a</w>']);
  });

  it('cleans like CLIP: HTML entities twice, whitespace collapsed, lowercase; splits letters, single digits, punctuation, contractions', () => {
    expect(cleanText('  A&amp;amp;B \n\t C ')).toBe('a&b c');
    const t = new ClipTokenizer([]);
    expect(t.encode('A&amp;B')).toEqual([byteId('a'), byteId('&'), byteId('b')]);
    expect(t.encode('42')).toEqual([byteId('4'), byteId('2')]);
    expect(t.encode("it's")).toEqual([byteId('i', false), byteId('t'), byteId("'", false), byteId('s')]);
  });

  it('leaves entities named like Object.prototype members as written', () => {
    expect(cleanText('&constructor; &hasOwnProperty; &toString; &__proto__;')).toBe('&constructor; &hasownproperty; &tostring; &__proto__;');
    expect(cleanText('&amp;lt;')).toBe('<');
  });

  it('encodes non-ASCII text as UTF-8 bytes', () => {
    const t = new ClipTokenizer([]);
    // é = C3 A9
    expect(t.encode('é')).toEqual([bytes.indexOf(0xc3), bytes.indexOf(0xa9) + 256]);
  });

  it('tokenize adds start/end tokens, pads with 0 to 77 and truncates with the end token last', () => {
    const t = new ClipTokenizer([]);
    const short = t.tokenize('a b');
    expect(short.length).toBe(4);
    expect(Array.from(short.ids.slice(0, 5))).toEqual([512, 320, byteId('b'), 513, 0]);
    expect(short.ids.length).toBe(77);
    const long = t.tokenize('a '.repeat(100));
    expect(long.length).toBe(77);
    expect(long.ids[76]).toBe(513);
    expect(long.ids[75]).toBe(320);
    expect(Array.from(t.tokenize('a', 5, 513).ids)).toEqual([512, 320, 513, 513, 513]);
  });

  it('reads a gzipped merges file and a vocab.json with its own ids', async () => {
    const merges = join(dir, 'm.txt.gz');
    writeFileSync(merges, gzipSync('#version: 0.2\nr e\nre d</w>\n'));
    const vocab = join(dir, 'vocab.json');
    writeFileSync(vocab, JSON.stringify({ 'red</w>': 7, '<|startoftext|>': 1, '<|endoftext|>': 2 }));
    const t = await ClipTokenizer.fromFiles(merges, vocab);
    expect(Array.from(t.tokenize('red', 4).ids)).toEqual([1, 7, 2, 0]);
    expect(() => t.encode('x')).toThrow(/no token 'x<\/w>'/);
  });

  it('a missing file is E_MODEL_NOT_FOUND; a malformed merge line or vocab E_MODEL_CORRUPT', async () => {
    await expect(ClipTokenizer.fromFiles(join(dir, 'none.txt'))).rejects.toMatchObject({ code: 'E_MODEL_NOT_FOUND' });
    const bad = join(dir, 'bad.txt');
    writeFileSync(bad, '#version: 0.2\nr e\nonly-one\n');
    await expect(ClipTokenizer.fromFiles(bad)).rejects.toMatchObject({ code: 'E_MODEL_CORRUPT', message: expect.stringMatching(/merge 2/) });
    const badVocab = join(dir, 'bad.json');
    writeFileSync(badVocab, '[1,2]');
    await expect(ClipTokenizer.fromFiles(join(dir, 'm.txt.gz'), badVocab)).rejects.toMatchObject({ code: 'E_MODEL_CORRUPT' });
  });
});
