// Coalesces many "something changed" calls into one callback per animation frame: a chart redraws at most once a
// frame however many events arrive.
export class FrameScheduler {
  private handle: number | null = null;
  constructor(private readonly run: () => void) {}

  schedule(): void {
    if (this.handle !== null) return;
    const raf =
      typeof requestAnimationFrame === 'function'
        ? requestAnimationFrame
        : (cb: FrameRequestCallback) => setTimeout(() => cb(performance.now()), 16) as unknown as number;
    this.handle = raf(() => {
      this.handle = null;
      this.run();
    });
  }

  cancel(): void {
    if (this.handle === null) return;
    if (typeof cancelAnimationFrame === 'function') cancelAnimationFrame(this.handle);
    else clearTimeout(this.handle);
    this.handle = null;
  }
}
