import { realpathSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { SegstreamError } from '../core/index.js';
import type { SourceSpec } from './sourceSpec.js';

export interface SourcePolicy {
  /**
   * Directories local files must lie in (after symbolic links are resolved). Empty: any
   * readable file the process can see, as given on the command line.
   */
  readonly mediaRoots: readonly string[];
  /**
   * TLS certificates are verified (default). ffmpeg 5.1's RTSP client cannot verify its TLS
   * connection (it passes no options down to it), so `rtsps://` is refused unless verification
   * is turned off explicitly.
   */
  readonly tlsVerify?: boolean;
  /**
   * Local files only inside a media root: sources from the HTTP API, which anyone who can reach
   * it could point at any file the process can read. Without media roots they are all refused.
   */
  readonly requireMediaRoot?: boolean;
}

/**
 * Checks a parsed source against the file system and the media roots, before anything
 * starts. A local file that exists must be a regular file, and with media roots configured it
 * must lie inside one; the spec that comes back carries its resolved path (symbolic links
 * followed), which is what ffmpeg gets, so a link inside a root cannot lead outside it. A file
 * that does not exist is left to fail at run time like a camera that is down.
 * Network and webcam sources pass unchanged (their scheme was checked by parseSourceSpec).
 * Throws E_SOURCE_REFUSED naming the rule.
 */
export function resolveSource(spec: SourceSpec, policy: SourcePolicy): SourceSpec {
  if (spec.kind === 'rtsp' && spec.url.startsWith('rtsps://') && policy.tlsVerify !== false) {
    throw new SegstreamError('E_SOURCE_REFUSED', `camera ${spec.id}: rtsps:// refused: ffmpeg cannot verify an RTSP server's certificate; give --no-tls-verify to accept it unverified`, {
      expected: 'rtsp://, or rtsps:// with --no-tls-verify',
      actual: 'rtsps://',
    });
  }
  if (spec.kind !== 'file') return spec;
  if (policy.requireMediaRoot && policy.mediaRoots.length === 0) {
    throw new SegstreamError('E_SOURCE_REFUSED', `camera ${spec.id}: local files are refused here unless media roots are configured (--media-root, ingest.mediaRoots)`, {
      expected: 'a network source, or a file inside a media root',
      actual: 'a local file',
    });
  }
  const refuse = (rule: string, actual: unknown = spec.url): never => {
    throw new SegstreamError('E_SOURCE_REFUSED', `camera ${spec.id}: source '${spec.url}' refused: ${rule}`, {
      expected: policy.mediaRoots.length > 0 ? `an existing video file inside ${policy.mediaRoots.join(', ')}` : 'an existing video file',
      actual,
    });
  };
  const roots = policy.mediaRoots.map((r) => {
    try {
      return realpathSync(resolve(r));
    } catch {
      return resolve(r);
    }
  });
  let real: string;
  try {
    real = realpathSync(resolve(spec.url));
  } catch {
    // Not there (yet): like a camera that is down, it fails at run time (E_SOURCE_UNREADABLE,
    // the other cameras go on); only its place is checked now.
    const path = resolve(spec.url);
    if (roots.length > 0 && !roots.some((root) => inside(path, root))) return refuse('outside every --media-root', path);
    return { ...spec, url: path };
  }
  // A device, FIFO or socket (/dev/zero, /proc/self/fd/0) is no video file.
  if (!statSync(real).isFile()) return refuse('not a regular file', real);
  if (roots.length > 0 && !roots.some((root) => inside(real, root))) return refuse('outside every --media-root (after resolving links)', real);
  return { ...spec, url: real };
}

function inside(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}
