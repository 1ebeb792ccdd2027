/**
 * Progress output: on a terminal, one status line redrawn in place (at most every 100 ms) with lines
 * printed above it; elsewhere (a pipe, a log file, CI) only the lines, plainly.
 */
export interface Progress {
  /** A line that stays (printed above the status line on a terminal). */
  line(text: string): void;
  /** The current status (shown on a terminal only). */
  status(text: string): void;
  /** Clears the status line. */
  done(): void;
}

export function createProgress(stream: NodeJS.WriteStream = process.stderr, tty: boolean = stream.isTTY === true): Progress {
  if (!tty) {
    return { line: (text) => void stream.write(`${text}\n`), status: () => {}, done: () => {} };
  }
  let current = '';
  let last = 0;
  let timer: NodeJS.Timeout | undefined;
  const width = () => Math.max(20, (stream.columns ?? 80) - 1);
  const draw = () => {
    timer = undefined;
    last = Date.now();
    stream.write(`\r\x1b[K${current.slice(0, width())}`);
  };
  return {
    line(text) {
      stream.write(`\r\x1b[K${text}\n`);
      draw();
    },
    status(text) {
      current = text;
      if (timer) return;
      const wait = 100 - (Date.now() - last);
      if (wait <= 0) draw();
      else timer = setTimeout(draw, wait);
    },
    done() {
      if (timer) clearTimeout(timer);
      stream.write('\r\x1b[K');
    },
  };
}

/** 1234567 → "1.2 MB". */
export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}
