// Live parts poll the API: every `everyMs` while the tab is visible, backing off (×2, up to a
// minute) while calls fail, and at once when the tab comes back.
import { useEffect, useRef, useState } from 'preact/hooks';

export interface Polled<T> {
  data?: T;
  error?: Error;
  loading: boolean;
  /** When the last successful answer came. */
  at?: Date;
  reload(): void;
}

export function nextDelay(everyMs: number, failures: number): number {
  return failures === 0 ? everyMs : Math.min(60_000, everyMs * 2 ** failures);
}

export function usePoll<T>(load: (signal: AbortSignal) => Promise<T>, everyMs: number | null, deps: unknown[] = []): Polled<T> {
  const [state, setState] = useState<Omit<Polled<T>, 'reload'>>({ loading: true });
  const tick = useRef<() => void>(() => undefined);
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let failures = 0;
    let controller: AbortController | undefined;
    const run = async () => {
      clearTimeout(timer);
      controller?.abort();
      controller = new AbortController();
      try {
        const data = await load(controller.signal);
        if (stopped) return;
        failures = 0;
        setState({ data, loading: false, at: new Date() });
      } catch (err) {
        if (stopped || (err as Error).name === 'AbortError') return;
        failures++;
        setState((s) => ({ ...s, error: err as Error, loading: false }));
      }
      if (!stopped && everyMs !== null) timer = setTimeout(() => void (document.hidden ? undefined : run()), nextDelay(everyMs, failures));
    };
    tick.current = () => void run();
    const visible = () => {
      if (!document.hidden) void run();
    };
    document.addEventListener('visibilitychange', visible);
    setState((s) => ({ ...s, loading: true }));
    void run();
    return () => {
      stopped = true;
      clearTimeout(timer);
      controller?.abort();
      document.removeEventListener('visibilitychange', visible);
    };
  }, deps);
  return { ...state, reload: () => tick.current() };
}
