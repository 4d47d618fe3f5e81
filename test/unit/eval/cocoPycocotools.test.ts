import { describe, expect, it } from 'vitest';
import { evaluateCoco } from '../../../src/eval/index.js';
import { randomCocoCase } from '../../helpers/cocoCases.js';

/**
 * pycocotools 2.0.11 (COCOeval, areaRng 'all' only, maxDets [N]) on randomCocoCase(7): 16
 * images (the last without ground truth), 52 ground-truth quadrilaterals of 3 categories (9 of
 * them crowd regions), 103 detections with tied scores, duplicates and near misses, some of a
 * category without ground truth (4) or of none listed (9). Computed by
 * test/fixtures/coco_eval_ref.py on cocoCaseJson(randomCocoCase(7)); rows are
 * [category_id, AP50-95, AP50, AP75]. maxDets 4 cuts detections in several images.
 */
const PYCOCOTOOLS = {
  4: {
    bbox: {
      map: 0.17366308349437506,
      map50: 0.5227606162900281,
      map75: 0.04914227686504914,
      categories: [
        [1, 0.277172964145154, 0.5974259190624945, 0.11315417256011313],
        [2, 0.14278989837273637, 0.4829940007575418, 0.024752475247524754],
        [3, 0.1010263879652348, 0.4878619290500478, 0.00952018278750952],
      ],
    },
    segm: {
      map: 0.10092224838964602,
      map50: 0.3946885043609613,
      map75: 0.00832940436900833,
      categories: [
        [1, 0.17224621347775995, 0.46725826674739085, 0.02498821310702499],
        [2, 0.0807575553935484, 0.4284184074516049, 0],
        [3, 0.04976297629762976, 0.2883888388838884, 0],
      ],
    },
  },
  100: {
    bbox: {
      map: 0.1765822370071954,
      map50: 0.5175657158476029,
      map75: 0.05228564331087487,
      categories: [
        [1, 0.277172964145154, 0.5974259190624945, 0.11315417256011313],
        [2, 0.14278989837273637, 0.4829940007575418, 0.024752475247524754],
        [3, 0.10978384850369588, 0.47227722772277214, 0.018950282124986693],
      ],
    },
    segm: {
      map: 0.1064848097391596,
      map50: 0.41836087159768504,
      map75: 0.00832940436900833,
      categories: [
        [1, 0.17224621347775995, 0.46725826674739085, 0.02498821310702499],
        [2, 0.0807575553935484, 0.4284184074516049, 0],
        [3, 0.06645066034617045, 0.3594059405940594, 0],
      ],
    },
  },
} as const;

describe('evaluateCoco agrees with pycocotools on a seeded case', () => {
  const c = randomCocoCase(7);
  it('the case is what the constants were computed on', () => {
    expect([c.gt.images.length, c.gt.annotations.length, c.gt.annotations.filter((a) => a.iscrowd).length, c.results.length]).toEqual([16, 52, 9, 103]);
  });
  for (const maxDets of [4, 100] as const) {
    for (const iouType of ['bbox', 'segm'] as const) {
      it(`${iouType}, maxDets ${maxDets}: mAP, mAP50, mAP75 and every category's AP to 12 decimals`, () => {
        const want = PYCOCOTOOLS[maxDets][iouType];
        const got = evaluateCoco(c.gt, c.results, { iouType, maxDets });
        expect(got.map).toBeCloseTo(want.map, 12);
        expect(got.map50).toBeCloseTo(want.map50, 12);
        expect(got.map75).toBeCloseTo(want.map75, 12);
        expect(got.categories.map((k) => k.categoryId)).toEqual(want.categories.map((k) => k[0]));
        got.categories.forEach((k, i) => {
          const [, ap, ap50, ap75] = want.categories[i]!;
          expect(k.ap).toBeCloseTo(ap, 12);
          expect(k.ap50).toBeCloseTo(ap50, 12);
          expect(k.ap75).toBeCloseTo(ap75, 12);
        });
      });
    }
  }
});
