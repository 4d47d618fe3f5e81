/**
 * Class groups: classes a detector confuses on one object (YOLOv8n calls one vehicle `car`,
 * then `truck`, then `bus`). Association and duplicate fusion work within a group, so a label
 * flicker neither splits a track nor publishes one vehicle twice, while a cyclist (person) and
 * the bicycle under them stay two objects.
 */

/** COCO names of each group; a class named in none is in `other`. */
export const CLASS_GROUP_NAMES: ReadonlyMap<string, readonly string[]> = new Map([
  ['person', ['person']],
  ['vehicle', ['bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat']],
  ['animal', ['bird', 'cat', 'dog', 'horse', 'sheep', 'cow', 'elephant', 'bear', 'zebra', 'giraffe']],
]);

/** Group index of every class id (0 person, 1 vehicle, 2 animal, 3 other), from the model's class names. */
export function classGroupsOf(classNames: readonly string[]): Int32Array {
  const byName = new Map<string, number>();
  [...CLASS_GROUP_NAMES.values()].forEach((names, g) => names.forEach((n) => byName.set(n, g)));
  const other = CLASS_GROUP_NAMES.size;
  return Int32Array.from(classNames, (n) => byName.get(n.trim().toLowerCase()) ?? other);
}

/**
 * Group lookup for a tracker: with `association` 'any' every class is one group, with 'class'
 * each class is its own, with 'group' the table (a class id beyond it is its own group,
 * numbered below 0 so it never meets a table group).
 */
export function groupFunction(association: 'group' | 'class' | 'any', table: Int32Array | null): (classId: number) => number {
  if (association === 'any') return () => 0;
  if (association === 'class' || table === null) return (c) => c;
  const n = table.length;
  return (c) => (c >= 0 && c < n ? table[c]! : -1 - c);
}
