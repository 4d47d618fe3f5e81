/** Colours of the overlay: one per target id, stable for the target's life; a quieter one per track. */

export type Rgb = readonly [number, number, number];

/** Distinct, saturated colours for targets, in order of target id (1 = the first). */
const TARGET_PALETTE: readonly Rgb[] = [
  [255, 64, 129],
  [0, 230, 118],
  [41, 121, 255],
  [255, 214, 0],
  [213, 0, 249],
  [0, 229, 255],
  [255, 109, 0],
  [118, 255, 3],
];

/** A target's colour: the same for the same id, whatever frame or tile draws it. */
export function targetColor(target: number): Rgb {
  const i = (((Math.trunc(target) - 1) % TARGET_PALETTE.length) + TARGET_PALETTE.length) % TARGET_PALETTE.length;
  return TARGET_PALETTE[i]!;
}

/** A tracked (not prompted) object's colour: hue by track id (golden angle), pale; untracked objects grey. */
export function trackColor(track: number | undefined): Rgb {
  if (track === undefined) return [170, 170, 170];
  return hslToRgb((track * 137.508) % 360, 0.45, 0.6);
}

export function hslToRgb(h: number, s: number, l: number): Rgb {
  const c = (1 - Math.abs(2 * l - 1)) * s;
  const hp = (((h % 360) + 360) % 360) / 60;
  const x = c * (1 - Math.abs((hp % 2) - 1));
  const [r, g, b] = hp < 1 ? [c, x, 0] : hp < 2 ? [x, c, 0] : hp < 3 ? [0, c, x] : hp < 4 ? [0, x, c] : hp < 5 ? [x, 0, c] : [c, 0, x];
  const m = l - c / 2;
  return [Math.round((r + m) * 255), Math.round((g + m) * 255), Math.round((b + m) * 255)];
}

export function css([r, g, b]: Rgb, alpha = 1): string {
  return alpha === 1 ? `rgb(${r}, ${g}, ${b})` : `rgba(${r}, ${g}, ${b}, ${alpha})`;
}

/** Mask opacity of a target and of any other object (0..1). */
export const TARGET_ALPHA = 0.6;
export const OBJECT_ALPHA = 0.35;
/** The tile's background while no video plays. */
export const BACKGROUND: Rgb = [64, 64, 64];
