/**
 * Pointer gestures on a tile to prompts, in source-frame px. Pure: the tile passes displayed
 * positions and sizes, so the arithmetic is tested without a browser.
 *
 * - a click (moved less than DRAG_PX) with the main button: a foreground point; the prompt goes
 *   at once, with the background points collected before it;
 * - shift-click or right-click: a background point, collected for the next foreground click;
 * - a drag: a box.
 */

/** A pointer that moved less than this between down and up clicked, display px. */
export const DRAG_PX = 6;

export interface Rect {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** A displayed position (client px) to source-frame px, clamped to the frame. */
export function toSource(clientX: number, clientY: number, rect: Rect, frameWidth: number, frameHeight: number): [number, number] {
  const x = ((clientX - rect.left) * frameWidth) / rect.width;
  const y = ((clientY - rect.top) * frameHeight) / rect.height;
  const clamp = (v: number, hi: number): number => Math.round(Math.min(hi, Math.max(0, v)) * 10) / 10;
  return [clamp(x, frameWidth), clamp(y, frameHeight)];
}

/** Source-frame px to displayed px relative to the element (for drawing the drag box). */
export function toDisplay(x: number, y: number, rect: Rect, frameWidth: number, frameHeight: number): [number, number] {
  return [(x * rect.width) / frameWidth, (y * rect.height) / frameHeight];
}

export interface PointerDown {
  clientX: number;
  clientY: number;
  /** 0 main, 2 secondary (right). */
  button: number;
  shiftKey: boolean;
}

export type Gesture =
  | { kind: 'point'; x: number; y: number; label: 0 | 1 }
  | { kind: 'box'; box: [number, number, number, number] };

/** What a pointer down/up pair means, in source px; undefined for buttons other than main and right. */
export function gestureOf(down: PointerDown, upX: number, upY: number, rect: Rect, frameWidth: number, frameHeight: number): Gesture | undefined {
  if (down.button !== 0 && down.button !== 2) return undefined;
  const moved = Math.hypot(upX - down.clientX, upY - down.clientY);
  const [x0, y0] = toSource(down.clientX, down.clientY, rect, frameWidth, frameHeight);
  if (moved < DRAG_PX || down.button === 2) {
    return { kind: 'point', x: x0, y: y0, label: down.button === 2 || down.shiftKey ? 0 : 1 };
  }
  const [x1, y1] = toSource(upX, upY, rect, frameWidth, frameHeight);
  const box: [number, number, number, number] = [Math.min(x0, x1), Math.min(y0, y1), Math.max(x0, x1), Math.max(y0, y1)];
  // A drag along an edge (zero width or height) is no box the server accepts: take it as a click.
  if (!(box[2] > box[0]) || !(box[3] > box[1])) return { kind: 'point', x: x0, y: y0, label: down.shiftKey ? 0 : 1 };
  return { kind: 'box', box };
}
