/**
 * The dashboard's HTTP calls: JSON with the access token as `Authorization: Bearer` (as the
 * token check and WHEP do), errors as ApiError with the server's code and message, images as
 * data: URLs (the page's CSP allows `img-src 'self' data:`; an `<img src>` could not send the
 * header, and the token stays out of URLs).
 */

/** A refused or failed call: the HTTP status (0: no answer), the server's error code and message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The error of a non-2xx answer: the body's `{"error": {code, message}}` when it has one, else the status and the body's start. */
export function errorOf(status: number, body: string): ApiError {
  try {
    const e = (JSON.parse(body) as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    if (e && typeof e.message === 'string') return new ApiError(status, typeof e.code === 'string' ? e.code : `HTTP ${status}`, e.message);
  } catch {
    // Not JSON: said below.
  }
  const text = body.trim().slice(0, 200);
  return new ApiError(status, `HTTP ${status}`, text ? `HTTP ${status}: ${text}` : `HTTP ${status}`);
}

/** An error as one line for the page. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) return err.code === `HTTP ${err.status}` ? err.message : `${err.message} (${err.code})`;
  return err instanceof Error ? err.message : String(err);
}

/** What the calls pass to fetch (typed here: the file also compiles with Node's types, for its tests). */
export interface CallInit {
  method?: string;
  headers: Record<string, string>;
  body?: string;
  cache?: 'no-store';
}

type FetchFn = (input: string, init: CallInit) => Promise<Response>;

/** Bytes as a data: URL (base64). */
export function dataUrl(type: string, bytes: Uint8Array): string {
  let binary = '';
  // In slices: String.fromCharCode takes its arguments on the stack.
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return `data:${type};base64,${btoa(binary)}`;
}

export class Api {
  constructor(
    private readonly token: string | undefined,
    private readonly fetchFn: FetchFn = (input, init) => fetch(input, init as RequestInit),
  ) {}

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return this.token === undefined ? extra : { ...extra, authorization: `Bearer ${this.token}` };
  }

  private async call(path: string, init: CallInit): Promise<Response> {
    let res: Response;
    try {
      res = await this.fetchFn(path, { cache: 'no-store', ...init });
    } catch (err) {
      throw new ApiError(0, 'E_NETWORK', `${init.method ?? 'GET'} ${path.split('?')[0]}: no answer (${(err as Error).message})`);
    }
    if (!res.ok) throw errorOf(res.status, await res.text().catch(() => ''));
    return res;
  }

  async getJson(path: string): Promise<unknown> {
    const res = await this.call(path, { headers: this.headers({ accept: 'application/json' }) });
    return res.json();
  }

  async putJson(path: string, body: unknown): Promise<unknown> {
    const res = await this.call(path, { method: 'PUT', headers: this.headers({ 'content-type': 'application/json', accept: 'application/json' }), body: JSON.stringify(body) });
    return res.json();
  }

  /** An image as a data: URL. */
  async imageDataUrl(path: string): Promise<string> {
    const res = await this.call(path, { headers: this.headers() });
    const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
    if (!type.startsWith('image/')) throw new ApiError(res.status, 'E_NOT_IMAGE', `${path.split('?')[0]}: not an image (${type || 'no type'})`);
    return dataUrl(type, new Uint8Array(await res.arrayBuffer()));
  }
}
