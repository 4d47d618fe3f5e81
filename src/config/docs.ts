import { z } from 'zod';
import { cameraSchema, configSchema, ingestSchema, SECTIONS } from './schema.js';

/**
 * docs/config.md, generated from the schemas (`npx tsx scripts/config-docs.ts`): one table per
 * section with every field's type, default, bounds and description, as zod's JSON Schema of the
 * input states them, so the page cannot drift from what parseConfig accepts. Nothing in it
 * depends on the machine (no paths, no CPU counts): test/unit/config/docs.test.ts compares it.
 */

/** The part of a JSON Schema (draft 2020-12, as z.toJSONSchema writes it) the tables show. */
interface JsonSchema {
  type?: string;
  enum?: readonly unknown[];
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: readonly string[];
}

const jsonSchema = (schema: z.ZodType): JsonSchema => z.toJSONSchema(schema, { io: 'input' }) as JsonSchema;

/** A camera field without a default of its own takes it from here. */
const CAMERA_FALLBACKS: Readonly<Record<string, string>> = {
  confidence: 'inference.confidence',
  ...Object.fromEntries(Object.keys(ingestSchema.shape).map((k) => [k, `ingest.${k}`])),
};

/** A schema description as a sentence: capitalised, with a full stop. */
const sentence = (s: string): string => `${s.charAt(0).toUpperCase()}${s.slice(1)}.`;

const code = (v: unknown): string => `\`${typeof v === 'string' ? v : JSON.stringify(v)}\``;

/** A table cell: one line, its pipes escaped. */
const cell = (s: string): string => s.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');

function typeOf(s: JsonSchema): string {
  if (s.enum) return `one of ${s.enum.map(code).join(', ')}`;
  if (s.type === 'array') return `list of ${s.items ? typeOf(s.items) : 'any'}`;
  return s.type ?? 'any';
}

function boundsOf(s: JsonSchema): string {
  const out: string[] = [];
  if (s.minimum !== undefined) out.push(`min ${s.minimum}`);
  if (s.exclusiveMinimum !== undefined) out.push(`> ${s.exclusiveMinimum}`);
  if (s.maximum !== undefined) out.push(`max ${s.maximum}`);
  if (s.exclusiveMaximum !== undefined) out.push(`< ${s.exclusiveMaximum}`);
  if (s.minLength !== undefined) out.push(`length >= ${s.minLength}`);
  if (s.maxLength !== undefined) out.push(`length <= ${s.maxLength}`);
  if (s.pattern !== undefined) out.push(`matches ${code(s.pattern)}`);
  if (s.minItems !== undefined) out.push(`>= ${s.minItems} items`);
  if (s.maxItems !== undefined) out.push(`<= ${s.maxItems} items`);
  if (s.items) {
    const items = boundsOf(s.items);
    if (items !== '') out.push(`each ${items}`);
  }
  return out.join(', ');
}

interface Row {
  field: string;
  type: string;
  default: string;
  bounds: string;
  description: string;
}

/**
 * Rows for an object's properties; a nested object (inference.clip) gets a row, then one per
 * field (a camera's nested object defaults field by field to the section's: motionGate).
 */
function rows(s: JsonSchema, prefix: string, defaultOf: (name: string, p: JsonSchema, required: boolean) => string): Row[] {
  const out: Row[] = [];
  for (const [name, p] of Object.entries(s.properties ?? {})) {
    const field = `${prefix}${name}`;
    const required = s.required?.includes(name) ?? false;
    const dflt = defaultOf(name, p, required);
    out.push({ field, type: typeOf(p), default: dflt, bounds: boundsOf(p), description: p.description ?? '' });
    const fallback = /^default: `(.+)`$/.exec(dflt)?.[1];
    if (p.type === 'object' && p.properties) {
      out.push(
        ...rows(p, `${field}.`, (k, q, req) =>
          req ? `required with \`${field}\`` : q.default !== undefined ? code(q.default) : fallback !== undefined ? `default: \`${fallback}.${k}\`` : 'unset',
        ),
      );
    }
  }
  return out;
}

function table(rs: readonly Row[]): string {
  const head = '| field | type | default | bounds | description |\n|---|---|---|---|---|';
  const body = rs.map((r) => `| \`${r.field}\` | ${cell(r.type)} | ${cell(r.default)} | ${cell(r.bounds)} | ${cell(r.description)} |`);
  return [head, ...body].join('\n');
}

/** Every field path the tables document, in order (`server.port`, ..., `cameras[].url`). */
export function documentedFields(): string[] {
  const fields: string[] = [];
  for (const [section, schema] of Object.entries(SECTIONS)) fields.push(...rows(jsonSchema(schema), `${section}.`, () => '').map((r) => r.field));
  fields.push(...rows(jsonSchema(cameraSchema), 'cameras[].', () => '').map((r) => r.field));
  return fields;
}

/**
 * A small configuration using every section; docs.test.ts checks that parseConfig accepts it.
 * Its local file lies inside its media root and need not exist (a missing file fails at run
 * time, like a camera that is down).
 */
export const EXAMPLE_YAML = `# segstream.yaml
server:
  host: 0.0.0.0
  port: 8080
inference:
  model: models/yolov8n-seg-320.onnx
  workers: 1
  threads: 0          # 0: one per CPU core
  confidence: 0.3
tracking:
  highScore: 0.5
  newScore: 0.6       # >= highScore
ingest:
  reconnectMinMs: 1000
  reconnectMaxMs: 30000
  mediaRoots: [/srv/video]
events:
  db: /var/lib/segstream/events.db
  maxAgeDays: 90
  webhook:
    url: https://ops.example.org/segstream   # each event POSTed as JSON
  privacy:
    enabled: true       # persons pixelated in snapshots and the video
broker:                 # segstream node / gateway only; run ignores it
  url: nats://10.0.0.5:4222
  name: rack1-gpu0      # this node, unique in the cluster
  capacity: 16
  leaseTtlS: 6          # a dead node's cameras move after this long
cameras:
  - id: gate
    url: rtsp://10.0.0.21:554/stream1
    motionGate:
      enabled: true     # no inference while the picture does not change
    zones:
      - name: shoulder
        polygon: [[0, 400], [300, 300], [420, 300], [200, 720], [0, 720]]
        rules:
          - { kind: stopped, classes: [car, truck, bus], seconds: 30 }
          - { kind: unknown, seconds: 10 }
      - name: lane1
        polygon: [[300, 300], [520, 300], [700, 720], [200, 720]]
        rules:
          - { kind: presence, classes: [person], seconds: 1 }
          - { kind: count, classes: [car, truck, bus], above: 12, seconds: 60 }
  - id: yard
    url: rtsps://10.0.0.22/live
    tlsVerify: false    # ffmpeg cannot verify rtsps://
    confidence: 0.5     # >= inference.confidence
    reconnectMaxMs: 10000
  - id: replay
    url: /srv/video/replay.mp4
    loop: true
    enabled: false
`;

const INTRO = `# Configuration

<!-- Generated from src/config/schema.ts by \`npx tsx scripts/config-docs.ts\`: edit the schemas, not this file. -->

\`segstream run --config segstream.yaml\` reads its configuration from a file: YAML, or JSON when
the name ends in \`.json\`. Every field has a default, so a section (or the whole file) can be left
out; unknown keys are refused. A flag given on the command line overrides the file's field
(\`--port 0\` wins over \`server.port\`, \`--track-new\` over \`tracking.newScore\`); the camera
flags (\`--fast\`, \`--loop\`, \`--reconnect-*\`, \`--no-tls-verify\`, \`--tls-ca-file\`, ...) set the
\`ingest\` defaults, so a camera's own value still wins; \`--source\` replaces the file's cameras.

\`segstream check-config segstream.yaml\` checks a file and its state file as \`run\` would,
without starting anything: exit code 0 and the camera ids when it is valid; exit code 2 and one
line \`E_CONFIG: ...\` (or \`E_SOURCE_REFUSED: ...\`) naming the field (\`server.port\`,
\`cameras[2].url\`, \`tracking.newScore\`) when it is not. \`--state-file <path>\` checks another
state file, \`--no-model\` skips reading the model. \`run\` checks the same, and stops with exit
code 2, before it loads the model or opens a camera.

## Rules between fields

Besides each field's bounds:

- \`ingest.reconnectMaxMs\` >= \`ingest.reconnectMinMs\`, and the same for each camera's own values;
- with tracking enabled, \`tracking.newScore\` >= \`tracking.highScore\`;
- a camera's \`confidence\` >= \`inference.confidence\`;
- camera ids are unique, and there are at most \`ingest.maxCameras\` cameras (API cameras included);
- a camera URL is \`rtsp(s)://\`, \`rtmp(s)://\`, \`http(s)://\`, \`/dev/videoN\` or a local file
  path: other schemes (\`file:\`, \`concat:\`, \`lavfi:\`, ...), values beginning with \`-\` and paths
  that are not regular files are refused (E_SOURCE_REFUSED); with \`ingest.mediaRoots\`, local files
  must lie inside one; \`rtsps://\` needs \`tlsVerify: false\`;
- \`tlsCaFile\` must be a readable file.

## Reloading, and cameras changed through the API

\`SIGHUP\` makes \`segstream run\` read the file and its state file again (flags still override them) and apply the
cameras' difference: cameras added, removed or changed start, stop or restart; the others run on.
Changes to \`server\`, \`inference\`, \`tracking\` or \`ingest.maxCameras\` are logged and take
effect only after a restart (cameras are checked against the values running). Everything is
checked before anything changes: an invalid file or state file changes nothing (logged). A
reload and the API's changes run one at a time, never interleaved.

Cameras added, changed or removed through the HTTP API (\`/api/cameras\`) are kept in a state
file beside the configuration, \`<config>.state.json\` (\`segstream.yaml\` ->
\`segstream.state.json\`), or in \`--state-file <path>\`: \`{"version": 1, "cameras": {"<id>":
... or null}}\`, written before the change is made (when it cannot be written, the request fails
with 500 and nothing changes). The configuration file is never rewritten. The state is laid over
the file's cameras on every load and every reload, so a reload does not undo an API change: for a
camera the file has, the state keeps only the fields the API changed, and the file's other
fields (and later edits to them) still apply; a camera the API added is kept whole and comes
after the configured ones; one it removed (\`null\`) stays removed, even if the file lists it. To undo a change, use the API, or delete the
camera's entry from the state file and send \`SIGHUP\` (or restart). A URL that came through the API
may name a local file only inside \`ingest.mediaRoots\`, and a camera's \`tlsCaFile\` set through
the API must be one the configuration names.
`;

/** The whole of docs/config.md. */
export function configMarkdown(): string {
  const parts: string[] = [INTRO];
  for (const [section, schema] of Object.entries(SECTIONS)) {
    const s = jsonSchema(schema);
    const rs = rows(s, `${section}.`, (_, p) => (p.default !== undefined ? code(p.default) : 'unset'));
    parts.push(`## ${section}\n\n${sentence(s.description ?? section)}\n\n${table(rs)}\n`);
  }
  const cameras = jsonSchema(configSchema).properties?.['cameras'] ?? {};
  const cam = jsonSchema(cameraSchema);
  const camRows = rows(cam, '', (name, p, required) => {
    if (required) return '**required**';
    if (p.default !== undefined) return code(p.default);
    const from = CAMERA_FALLBACKS[name];
    return from === undefined ? 'unset' : `default: \`${from}\``;
  });
  const intro = `\`cameras\`: ${cameras.description ?? 'the cameras'}, at most ${cameras.maxItems ?? 'any number'} (and at most \`ingest.maxCameras\`). Each entry: ${cam.description ?? 'one camera'}.`;
  parts.push(`## cameras\n\n${intro}\n\n${table(camRows)}\n`);
  parts.push(`## Example\n\n\`\`\`yaml\n${EXAMPLE_YAML}\`\`\`\n`);
  return parts.join('\n');
}
