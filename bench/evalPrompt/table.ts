import { iou, type ModeSummary, type PromptMetrics } from './metrics.js';
import type { PlacedPrompt } from './placement.js';
import type { PromptOutcome } from './replay.js';

export type Align = 'left' | 'right';

/** A GitHub markdown table; `|` inside cells is escaped, every row padded to the header's width. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[], align: readonly Align[] = []): string {
  const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const line = (cells: readonly string[]): string => `| ${header.map((_, i) => cell(cells[i] ?? '')).join(' | ')} |`;
  const rule = `|${header.map((_, i) => (align[i] === 'right' ? '---:' : '---')).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

export const pct = (x: number): string => (Number.isFinite(x) ? `${(100 * x).toFixed(1)} %` : '-');

/** Which tracks the prompt bound, with the IoU of their box and the prompt box (1: the prompted object). */
export function boundLabel(outcome: PromptOutcome, promptBox: PlacedPrompt['box']): string {
  if (!outcome.ok) return `rejected: ${outcome.code}`;
  const overlap = outcome.boundBox ? iou(outcome.boundBox, promptBox).toFixed(2) : '-';
  return `track ${outcome.tracks.join('+')} (IoU ${overlap})`;
}

/** Share of processed frames after the prompt, with the counts forward and backward. */
export function presenceLabel(m: PromptMetrics): string {
  if (!m.accepted) return '-';
  const fwd = `${m.present - m.presentBackward}/${m.forwardAfterPrompt}`;
  const bwd = `${m.presentBackward}/${m.framesAfterPrompt - m.forwardAfterPrompt}`;
  return `${pct(m.presence)} (fwd ${fwd}, bwd ${bwd})`;
}

export function endedLabel(m: PromptMetrics): string {
  if (!m.accepted) return '-';
  if (m.ended === null) return 'no';
  return `${m.ended.reason}, ${m.ended.backward ? 'bwd' : 'fwd'} at ${(m.ended.pictureMs / 1000).toFixed(2)} s`;
}

export interface PromptRow {
  readonly prompt: PlacedPrompt;
  readonly mode: string;
  readonly outcome: PromptOutcome;
  readonly metrics: PromptMetrics;
}

export const CLIP_HEADER = [
  '#', 'role', 'class', 'area px²', 'score', 'mode', 'bound to (IoU with prompt)', 'presence', 'predicted only',
  'identity changes (reattached + other)', 'ended', 'FB IoU', 'FB centre error px',
] as const;
const CLIP_ALIGN: Align[] = ['right', 'left', 'left', 'right', 'right', 'left', 'left', 'right', 'right', 'right', 'left', 'right', 'right'];

/** One row per prompt and mode; prompts numbered in `prompts` order. */
export function clipTable(prompts: readonly PlacedPrompt[], rows: readonly PromptRow[]): string {
  const cells = rows.map((r) => {
    const m = r.metrics;
    return [
      String(prompts.indexOf(r.prompt) + 1),
      r.prompt.role,
      r.prompt.className,
      r.prompt.area.toFixed(0),
      r.prompt.score.toFixed(2),
      r.mode,
      boundLabel(r.outcome, r.prompt.box),
      presenceLabel(m),
      m.accepted ? String(m.predictedOnly) : '-',
      m.accepted ? `${m.identityChanges} (${m.reattached} + ${m.otherTrackChanges})` : '-',
      endedLabel(m),
      m.fb ? m.fb.iou.toFixed(2) : 'absent',
      m.fb ? m.fb.centreErrorPx.toFixed(1) : '-',
    ];
  });
  return markdownTable(CLIP_HEADER, cells, CLIP_ALIGN);
}

export const SUMMARY_HEADER = [
  'clips', 'mode', 'prompts', 'accepted', 'mean presence', 'identity changes', 'mean FB IoU (absent = 0)', 'present at end', 'survived',
] as const;

export function summaryRow(clips: string, mode: string, s: ModeSummary): string[] {
  return [
    clips,
    mode,
    String(s.prompts),
    String(s.accepted),
    pct(s.meanPresence),
    String(s.identityChanges),
    Number.isFinite(s.meanFbIou) ? s.meanFbIou.toFixed(2) : '-',
    String(s.presentAtEnd),
    pct(s.survived),
  ];
}

export function summaryTable(rows: readonly (readonly string[])[]): string {
  return markdownTable(SUMMARY_HEADER, rows, ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right']);
}
