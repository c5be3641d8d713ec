// Human progress for the CLI: one line per epoch and per checkpoint, a step line with loss and ETA
// (rewritten in place on a terminal, every 10th step otherwise).
import type { TrainingEvent } from '../../shared/training-events';

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}

export class ProgressPrinter {
  private totalSteps = 0;
  private epochs = 0;
  private msSum = 0;
  private msCount = 0;
  private live = false;
  private lastEncodingLine = 0;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly quiet: boolean,
  ) {}

  line(text: string): void {
    // --quiet hides progress, never a warning (a stale lock taken over, a corrupt checkpoint skipped on resume).
    if (this.quiet && !text.startsWith('warning:')) return;
    if (this.live) this.out.write('\n');
    this.live = false;
    this.out.write(text + '\n');
  }

  /** For a job whose events carry no run-start (pretraining): its epoch count, so step lines get a total and an ETA. */
  expectEpochs(epochs: number): void {
    this.epochs = epochs;
  }

  onEvent(e: TrainingEvent): void {
    switch (e.type) {
      case 'run-start':
        this.totalSteps = e.totalSteps;
        this.line(
          `${e.resumed ? 'resuming' : 'training'} ${e.preset} (${e.method}) on ${e.data.train} train / ${e.data.valid} valid items; ${e.parameters.total.toLocaleString('en')} trainable parameters; ${e.backend.description}`,
        );
        if (e.data.issueCount > 0)
          this.line(
            `data: ${e.data.issueCount} issue(s) (listed in events.jsonl run-start), e.g. ${e.data.issues[0].file}:${e.data.issues[0].line}: ${e.data.issues[0].message}`,
          );
        this.line(
          `${e.epochs} epochs × ${e.stepsPerEpoch} steps = ${e.totalSteps} steps${e.startStep > 0 ? `, starting at step ${e.startStep + 1}` : ''}`,
        );
        break;
      case 'step': {
        this.msSum += e.ms;
        this.msCount += 1;
        const total = this.totalSteps > 0 ? this.totalSteps : this.epochs * e.stepsPerEpoch;
        const eta = (this.msSum / this.msCount) * (total - e.step);
        const acc =
          e.checked.text + e.checked.image > 0
            ? ` acc t ${e.accepted.text}/${e.checked.text} v ${e.accepted.image}/${e.checked.image}`
            : '';
        const overall = total > 0 ? `(${e.step}/${total})` : `(step ${e.step})`;
        const etaText = total > 0 ? ` ETA ${formatDuration(eta)}` : '';
        const text = `epoch ${e.epoch + 1} step ${e.stepInEpoch}/${e.stepsPerEpoch} ${overall} loss ${e.loss.toFixed(4)}${acc} lr ${e.lr.toExponential(2)} ${(e.ms / 1000).toFixed(2)} s/step${etaText}`;
        if (this.quiet) break;
        if (this.out.isTTY) {
          this.out.write(`\r${text}\x1b[K`);
          this.live = true;
        } else if (e.stepInEpoch % 10 === 0 || e.stepInEpoch === e.stepsPerEpoch) this.line(text);
        break;
      }
      case 'epoch-end': {
        const v = e.validation;
        const strides = e.strides
          ? ` strides text ${JSON.stringify(e.strides.text.histogram)} image ${JSON.stringify(e.strides.image.histogram)}`
          : '';
        const acc =
          e.acceptance.text.share !== null || e.acceptance.image.share !== null
            ? ` accepted text ${share(e.acceptance.text.share)} image ${share(e.acceptance.image.share)}`
            : '';
        this.line(
          `epoch ${e.epoch + 1}/${e.epochs}: loss ${e.meanLoss.toFixed(4)}${acc}${strides}${v ? ` | valid F1@1 ${(100 * v['f1@1']).toFixed(2)} F1@3 ${(100 * v['f1@3']).toFixed(2)} MAP@5 ${(100 * v['map@5']).toFixed(2)}${e.improved ? ' (best)' : ''}` : ''}`,
        );
        break;
      }
      case 'progress': {
        // Image encoding can take minutes on a first run: a line every 5 s and the last one.
        if (e.phase !== 'encoding' || e.done === null || e.total === null || e.total === 0) break;
        const now = performance.now();
        if (e.done < e.total && now - this.lastEncodingLine < 5000) break;
        this.lastEncodingLine = now;
        const how = e.images
          ? ` (cached ${e.images.cached}, computed ${e.images.computed}, failed ${e.images.failed})`
          : '';
        this.line(`images: ${e.done}/${e.total}${how}`);
        break;
      }
      case 'error':
        // The CLI's error handler prints the error itself (one line, exit code by its code); printing it here
        // too would show it twice. Only end a live step line.
        if (this.live && !this.quiet) this.out.write('\n');
        this.live = false;
        break;
      default:
        break;
    }
  }
}

function share(x: number | null): string {
  return x === null ? '-' : `${(100 * x).toFixed(1)}%`;
}
