// predict.case: each chosen run's keyphrases for one case, in the prediction worker (models kept loaded).
import { join } from 'node:path';
import { scoreCase } from '../../../models/index';
import type { PREDICT_COMMANDS } from '../../../shared/contract/services/predict';
import type { PredictJobParams } from '../../supervisor/tasks/predict';
import type { HandlersOf, ServiceContext } from './context';
import type { RunViews } from './run-views';

export function predictHandlers(c: ServiceContext, views: RunViews): HandlersOf<typeof PREDICT_COMMANDS> {
  return {
    'predict.case': async (req, ctx) => {
      const s = c.supervisor();
      const runs = req.runIds.map((runId) => ({ runId, runDir: views.runDirChecked(runId) }));
      let input: PredictJobParams['input'];
      let gold: string[] | null = null;
      let donor: PredictJobParams['donor'] = null;
      let donorId: string | null = null;
      if (req.input.kind === 'item') {
        const { dir, item } = await c.datasets.item(req.input.dataset, req.input.itemId);
        input = { imagePath: item.image === null ? null : join(dir, item.image), imageBase64: null, text: item.text };
        gold = item.keyphrases;
        if (req.conditions) {
          // The swaps take the next item of the same split that has an image (cyclic): deterministic.
          const { loaded } = await c.datasets.load(req.input.dataset);
          const split = loaded.items.filter((i) => i.split === item.split);
          const at = split.findIndex((i) => i.id === item.id);
          const next = [...split.slice(at + 1), ...split.slice(0, at)].find((i) => i.image !== null);
          if (next) {
            donor = { imagePath: join(dir, next.image!), text: next.text };
            donorId = next.id;
          }
        }
      } else {
        const m = req.input.image === null ? null : /^data:image\/[a-z]+;base64,(.*)$/.exec(req.input.image);
        input = { imagePath: null, imageBase64: m ? m[1] : null, text: req.input.text ?? '' };
      }
      const result = await s.predict(
        { runs, input, mode: req.mode, decode: req.decode, conditions: req.conditions, donor },
        ctx.signal,
      );
      const score = (keyphrases: string[]): { hits: boolean[] | null; f1at3: number | null } =>
        gold === null ? { hits: null, f1at3: null } : scoreCase(gold, keyphrases);
      return {
        gold,
        donor:
          req.conditions && req.input.kind === 'item' ? (donorId === null ? null : { itemId: donorId }) : undefined,
        results: result.results.map(({ conditions, ...r }) => ({
          ...r,
          ...(conditions
            ? {
                conditions: conditions.map((x) => ({
                  name: x.name,
                  family: x.family,
                  mode: x.mode,
                  keyphrases: x.keyphrases,
                  ...score(x.keyphrases),
                })),
              }
            : {}),
        })),
      };
    },
  };
}
