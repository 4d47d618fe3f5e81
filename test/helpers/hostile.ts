import { rng } from './random.js';

/**
 * Hostile client messages for the fuzz test, as raw JSON text (so that 1e400, -0 or lone
 * surrogate escapes survive, which JSON.stringify would normalise). Everything is derived
 * from a seed, so a failing case reproduces.
 */

/** Names an attacker tries where the server might look something up by client input. */
export const PROTOTYPE_NAMES = ['__proto__', 'constructor', 'hasOwnProperty', 'toString', 'valueOf', 'isPrototypeOf', '__defineGetter__', 'prototype'];

/** `n` nested arrays: `[[[...]]]`. */
export const deepArray = (n: number): string => `${'['.repeat(n)}${']'.repeat(n)}`;
/** `n` nested objects: `{"a":{"a":...{}}}`. */
export const deepObject = (n: number): string => `${'{"a":'.repeat(n - 1)}{}${'}'.repeat(n - 1)}`;

/** Odd but valid unicode, as JSON string literals. */
export const ODD_STRINGS = [
  '"\\ud800"', // lone high surrogate
  '"\\udfff\\ud800"', // reversed pair
  '"\\u0000"',
  '"car\\u0000"',
  '"\u202ecar\u202c"', // right-to-left override
  '"c\u200da\u200dr"', // zero-width joiners
  '"😀"',
  '"\ufeffcar"', // BOM
  '"ca\u0301r"', // combining accent
  '"ﬁre hydrant"', // NFKC ligature
  '"𝕔𝕒𝕣"', // mathematical letters, NFKC -> car
  '"ＣＡＲ"', // full width
  '" \\t\\n "',
  `"${'😀'.repeat(40)}"`,
  '"\\u2028\\u2029"',
];

/** Values of every JSON kind, including the awkward ones. */
export const HOSTILE_VALUES: readonly string[] = [
  'null', 'true', 'false', '0', '-0', '1', '-1', '1.5', '1e400', '-1e400', '1e308', '5e-324', '9007199254740993', '1e21', '-1e-400',
  '""', '"x"', JSON.stringify('x'.repeat(65)), JSON.stringify('x'.repeat(300)), '"*"', '"road"',
  '[]', '{}', '[1,2]', '[[1,2,1]]', '[1,2,3,4]', '{"a":1}', '[null]', '["road"]', '[""]', '[1e400,1e400,1e400,1e400]',
  ...PROTOTYPE_NAMES.map((n) => JSON.stringify(n)),
  '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{"polluted":true}}}', '["__proto__"]',
  ...ODD_STRINGS,
  deepArray(33), deepArray(100), deepArray(5000), deepObject(33), deepObject(2500),
  `[${deepArray(40)},1,1]`,
];

/** A message given as its fields' raw JSON texts, in order. */
export type RawMessage = readonly (readonly [key: string, json: string])[];

export const rawJson = (m: RawMessage): string => `{${m.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;

/** One valid-looking message per kind of request, every field present. */
export const BASE_MESSAGES: Readonly<Record<string, RawMessage>> = {
  ping: [['type', '"ping"'], ['id', '7']],
  subscribe: [['type', '"subscribe"'], ['cameras', '["road"]']],
  'prompt.points': [['type', '"prompt"'], ['camera', '"road"'], ['id', '"p"'], ['points', '[[320,240,1],[10,10,0]]']],
  'prompt.box': [['type', '"prompt"'], ['camera', '"road"'], ['id', '"p"'], ['box', '[100,100,400,300]']],
  'prompt.text': [['type', '"prompt"'], ['camera', '"road"'], ['id', '"p"'], ['text', '"car"']],
  'prompt.clear': [['type', '"prompt.clear"'], ['camera', '"road"'], ['id', '1'], ['target', '1']],
};

/** Nesting depth of a value's JSON text, for predicting the server's answer. */
export function depthOf(json: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '[' || c === '{') max = Math.max(max, ++depth);
    else if (c === ']' || c === '}') depth--;
  }
  return max;
}

export interface Case {
  readonly text: string;
  /** Why: shown when the reply is wrong. */
  readonly what: string;
}

/**
 * Every field of every base message replaced by every hostile value, plus point and box
 * elements and extra keys named like Object.prototype members.
 */
export function systematicCases(): Case[] {
  const out: Case[] = [];
  for (const [kind, base] of Object.entries(BASE_MESSAGES)) {
    base.forEach(([key], i) => {
      for (const v of HOSTILE_VALUES) {
        const m = base.map((f, j): [string, string] => (j === i ? [f[0], v] : [f[0], f[1]]));
        out.push({ text: rawJson(m), what: `${kind}.${key} = ${v.slice(0, 40)}` });
      }
    });
    for (const name of PROTOTYPE_NAMES) out.push({ text: rawJson([...base, [name, '1']]), what: `${kind} + key ${name}` });
  }
  for (const v of HOSTILE_VALUES) {
    out.push({ text: rawJson([['type', '"prompt"'], ['camera', '"road"'], ['points', `[[${v},1,1]]`]]), what: `point x = ${v.slice(0, 40)}` });
    out.push({ text: rawJson([['type', '"prompt"'], ['camera', '"road"'], ['points', `[[1,1,${v}]]`]]), what: `point label = ${v.slice(0, 40)}` });
    out.push({ text: rawJson([['type', '"prompt"'], ['camera', '"road"'], ['box', `[1,1,${v},5]`]]), what: `box x2 = ${v.slice(0, 40)}` });
  }
  for (const name of PROTOTYPE_NAMES) {
    out.push({ text: rawJson([['type', JSON.stringify(name)]]), what: `type ${name}` });
    out.push({ text: rawJson([['type', '"prompt"'], ['camera', JSON.stringify(name)], ['text', '"car"']]), what: `camera ${name}` });
    out.push({ text: rawJson([['type', '"prompt"'], ['camera', '"road"'], ['text', JSON.stringify(name)]]), what: `text ${name}` });
    out.push({ text: rawJson([['type', '"subscribe"'], ['cameras', JSON.stringify([name])]]), what: `subscribe ${name}` });
    out.push({ text: rawJson([['type', '"prompt.clear"'], ['camera', JSON.stringify(name)]]), what: `clear camera ${name}` });
  }
  out.push({ text: '{"__proto__":{"type":"ping"}}', what: 'type only on an own __proto__' });
  return out;
}

/** Random hostile messages: mutated requests, random JSON, broken JSON, odd unicode; all under `maxBytes`. */
export function randomCases(seed: number, count: number, maxBytes: number): Case[] {
  const r = rng(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const kinds = Object.keys(BASE_MESSAGES);

  const randomString = (): string => {
    let s = '';
    const n = int(0, 30);
    for (let i = 0; i < n; i++) {
      const k = r();
      if (k < 0.5) s += String.fromCharCode(int(0x20, 0x7e));
      else if (k < 0.7) s += `\\u${int(0, 0xffff).toString(16).padStart(4, '0')}`; // any code unit, surrogates included
      else if (k < 0.8) s += pick(['\\"', '\\\\', '\\n', '\\u0000', '\\ud83d\\ude00']);
      else s += String.fromCodePoint(int(0xa0, 0x2ffff));
    }
    // Unescaped quotes and backslashes would end the literal early or escape the closing quote.
    return `"${s.replace(/(?<!\\)"/g, "'").replace(/\\(?![\\"nu])/g, '/')}"`;
  };
  const randomNumber = (): string =>
    pick([
      () => String(int(-1e6, 1e6)),
      () => String((r() - 0.5) * 10 ** int(-10, 10)),
      () => `${int(1, 9)}e${int(300, 500)}`,
      () => `-${int(1, 9)}e${int(300, 500)}`,
      () => `${int(0, 9)}.${int(0, 999999)}e-${int(300, 400)}`,
      () => '-0',
    ])();
  const randomValue = (depth: number): string => {
    const k = r();
    if (k < 0.15) return randomNumber();
    if (k < 0.3) return randomString();
    if (k < 0.5) return pick(HOSTILE_VALUES);
    if (k < 0.6) return r() < 0.5 ? deepArray(int(2, 4000)) : deepObject(int(2, 2000));
    if (depth > 6) return pick(['null', 'true', '0']);
    if (k < 0.8) return `[${Array.from({ length: int(0, 6) }, () => randomValue(depth + 1)).join(',')}]`;
    const keys = Array.from({ length: int(0, 5) }, () => (r() < 0.4 ? JSON.stringify(pick(PROTOTYPE_NAMES)) : randomString()));
    return `{${keys.map((key) => `${key}:${randomValue(depth + 1)}`).join(',')}}`;
  };
  const randomPoints = (): string => {
    const n = pick([0, 1, 63, 64, 65, int(2, 200), int(200, 2000)]);
    const coord = (): string => (r() < 0.9 ? String(int(-50, 700)) : randomNumber());
    return `[${Array.from({ length: n }, () => `[${coord()},${coord()},${pick(['0', '1', '2', '-1', 'true', '0.5'])}]`).join(',')}]`;
  };
  const mutated = (): string => {
    const base = BASE_MESSAGES[pick(kinds)]!;
    const fields = base.map(([k, v]): [string, string] => [k, v]);
    const i = int(0, fields.length - 1);
    fields[i] = [fields[i]![0], fields[i]![0] === 'points' && r() < 0.5 ? randomPoints() : randomValue(0)];
    if (r() < 0.2) fields.push([pick([...PROTOTYPE_NAMES, 'extra', '']), randomValue(0)]);
    if (r() < 0.1) fields.splice(int(0, fields.length - 1), 1);
    return rawJson(fields);
  };
  const broken = (): string => {
    const text = r() < 0.7 ? mutated() : randomValue(0);
    return pick([
      () => text.slice(0, int(0, Math.max(0, text.length - 1))),
      () => `${text}${pick([',', '}', ']', 'x', '"'])}`,
      () => text.replace(/:/, pick(['', '::', '=', ': undefined'])),
      () => pick(['NaN', 'Infinity', '-Infinity', 'undefined', "{'type':'ping'}", '{"type":"ping",}', '[1,]', '01', '.5', '1.', '"\\x41"', '"\\u12"', '\ufeff{}', '']),
      () => Array.from({ length: int(1, 50) }, () => String.fromCharCode(int(0x20, 0x7e))).join(''),
    ])();
  };

  const out: Case[] = [];
  while (out.length < count) {
    const k = r();
    let text: string;
    if (k < 0.45) text = mutated();
    else if (k < 0.6) text = randomValue(0);
    else if (k < 0.8) text = broken();
    else if (k < 0.9) text = rawJson([['type', '"prompt"'], ['camera', '"road"'], ['points', randomPoints()]]);
    else text = rawJson([['type', pick([...ODD_STRINGS, '"prompt"'])], ['camera', pick(ODD_STRINGS)], ['text', pick(ODD_STRINGS)]]);
    if (Buffer.byteLength(text) > maxBytes) continue;
    out.push({ text, what: `random #${out.length}` });
  }
  return out;
}

/** Random bytes, and valid messages sent as binary frames. */
export function binaryCases(seed: number, count: number): Buffer[] {
  const r = rng(seed);
  return Array.from({ length: count }, (_, i) => {
    if (i % 4 === 0) return Buffer.from('{"type":"ping","id":1}');
    return Buffer.from(Array.from({ length: 1 + Math.floor(r() * 2000) }, () => Math.floor(r() * 256)));
  });
}

/** Text frames that are not UTF-8 (the server must close with 1007). */
export const INVALID_UTF8: readonly Buffer[] = [
  Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), // bytes that never occur in UTF-8
  Buffer.from([0x22, 0xc0, 0xaf, 0x22]), // overlong '/'
  Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22]), // an encoded surrogate
  Buffer.from([0x22, 0xe2, 0x82]), // truncated sequence at the end
  Buffer.from([0x22, 0xf4, 0x90, 0x80, 0x80, 0x22]), // above U+10FFFF
];
