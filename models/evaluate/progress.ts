// Progress lines with an ETA for long decoding jobs (stderr, at most one line per `everyMs`).

export class Progress {
  private readonly start = performance.now();
  private last = 0;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly write: (line: string) => void = (line) => process.stderr.write(line + '\n'),
    private readonly everyMs = 2000,
  ) {}

  /** Reports `done` of `total` units; always prints the final one. */
  update(done: number, detail = ''): void {
    const now = performance.now();
    if (done < this.total && now - this.last < this.everyMs) return;
    this.last = now;
    const elapsed = (now - this.start) / 1000;
    const eta = done > 0 ? (elapsed / done) * (this.total - done) : NaN;
    const pct = this.total > 0 ? ((100 * done) / this.total).toFixed(0) : '100';
    const tail = done < this.total ? `, ETA ${formatSeconds(eta)}` : '';
    this.write(`${this.label}: ${done}/${this.total} (${pct}%)${detail ? ` ${detail}` : ''}, ${formatSeconds(elapsed)} elapsed${tail}`);
  }
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s - 60 * m)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}
