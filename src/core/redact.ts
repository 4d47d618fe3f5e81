/**
 * Camera URLs often carry credentials (`rtsp://admin:s3cret@10.0.0.7/s`, `?password=...`).
 * The real URL goes to ffmpeg only; everything shown (status, /healthz, hello, logs, error
 * messages, ffmpeg's own output) goes through these first.
 */

/**
 * `scheme://user:password@` -> `scheme://user:***@` (a user name alone is kept). The password
 * runs to the last `@` before the path, as ffmpeg reads it (`admin:p@ss@host` is `p@ss`).
 */
const USERINFO_RE = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@:]*):([^\s/?#]*)@/gi;
/**
 * Query parameters that carry secrets by convention in camera and streaming URLs: any name
 * ending in one of these words (`pwd`, `api_key`, `X-Amz-Signature`, `X-Amz-Security-Token`...).
 */
const SECRET_PARAM_RE = /([?&;][\w.-]*?(?:password|passwd|pass|pwd|token|auth|key|secret|signature|sig|credential)=)[^&#\s'"]*/gi;
/** Shorter literal secrets are left to the URL patterns: replacing them everywhere would garble text. */
const MIN_LITERAL_SECRET = 4;

/** The URL with its password and secret query parameters replaced by `***`. */
export function redactUrl(url: string): string {
  return redactText(url);
}

/**
 * Redacts credentials in any text: URLs with a password, secret query parameters, and every
 * literal occurrence of `secrets` (the password as written and percent-decoded, which ffmpeg
 * may print on its own, e.g. in an authentication error).
 */
export function redactText(text: string, secrets: readonly string[] = []): string {
  let out = text.replace(USERINFO_RE, (_m, scheme: string, user: string) => `${scheme}${user}:***@`).replace(SECRET_PARAM_RE, '$1***');
  for (const s of secrets) {
    if (s.length >= MIN_LITERAL_SECRET) out = out.split(s).join('***');
  }
  return out;
}

/** The secrets a URL carries (password, secret query values), as written and percent-decoded. */
export function urlSecrets(url: string): string[] {
  const found = new Set<string>();
  for (const m of url.matchAll(USERINFO_RE)) if (m[3]) found.add(m[3]);
  for (const m of url.matchAll(SECRET_PARAM_RE)) {
    const value = url.slice(m.index + m[1]!.length, m.index + m[0].length);
    if (value) found.add(value);
  }
  for (const s of [...found]) {
    try {
      found.add(decodeURIComponent(s));
    } catch {
      // Not valid percent-encoding: the raw form is all ffmpeg can print.
    }
  }
  return [...found].sort((a, b) => b.length - a.length);
}
