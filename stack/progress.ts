/**
 * Progress for long work: what is happening, how far it is and how long it has taken.
 * On a terminal the current line is redrawn; elsewhere (CI, logs) a line is printed every 15 s.
 */
export class Progress {
  private readonly tty = Boolean(process.stderr.isTTY);
  private lastPrint = new Map<string, number>();

  constructor(private readonly quiet = false) {}

  /** A finished step or a fact worth keeping on screen. */
  say(who: string, message: string): void {
    if (this.quiet) return;
    this.clear();
    process.stderr.write(`${stamp()} ${who.padEnd(11)} ${message}\n`);
  }

  /** An update on running work; throttled so CI logs stay readable. */
  tick(who: string, message: string, startedAt: number, force = false): void {
    if (this.quiet) return;
    const line = `${stamp()} ${who.padEnd(11)} ${message} (${elapsed(startedAt)})`;
    if (this.tty) {
      process.stderr.write(`\r\x1b[2K${line.slice(0, (process.stderr.columns || 120) - 1)}`);
      return;
    }
    const last = this.lastPrint.get(who) ?? 0;
    if (force || Date.now() - last >= 15_000) {
      this.lastPrint.set(who, Date.now());
      process.stderr.write(line + '\n');
    }
  }

  private clear(): void {
    if (this.tty) process.stderr.write('\r\x1b[2K');
  }
}

export function elapsed(since: number): string {
  const s = Math.round((Date.now() - since) / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

function stamp(): string {
  return new Date().toISOString().slice(11, 19);
}
