// Kubernetes Events for meaningful transitions and failures. Repeats of the same event on the same
// object within ten minutes bump its count instead of adding a new Event, as client-go's recorder does.
import { CoreV1Api, type CoreV1Event, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../../lib/log.ts';

export interface EventTarget {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
}

export class EventRecorder {
  private readonly api: CoreV1Api;
  private readonly recent = new Map<string, { name: string; count: number; at: number }>();

  constructor(
    kc: KubeConfig,
    private readonly component: string,
    private readonly log: Logger,
  ) {
    this.api = kc.makeApiClient(CoreV1Api);
  }

  normal(target: EventTarget, reason: string, message: string): void {
    this.emit(target, 'Normal', reason, message);
  }

  warning(target: EventTarget, reason: string, message: string): void {
    this.emit(target, 'Warning', reason, message);
  }

  private emit(target: EventTarget, type: 'Normal' | 'Warning', reason: string, message: string): void {
    // Events are best effort: a failure to record one never fails a reconcile.
    this.record(target, type, reason, message.slice(0, 1024)).catch((err: unknown) => this.log.debug({ err: String(err) }, 'could not record an Event'));
  }

  private async record(target: EventTarget, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const namespace = target.metadata?.namespace ?? 'default';
    const key = `${target.metadata?.uid}|${type}|${reason}|${message}`;
    const now = new Date();
    const seen = this.recent.get(key);
    if (seen && now.getTime() - seen.at < 10 * 60_000) {
      seen.count++;
      seen.at = now.getTime();
      await this.api.patchNamespacedEvent({ name: seen.name, namespace, body: [{ op: 'replace', path: '/count', value: seen.count }, { op: 'replace', path: '/lastTimestamp', value: now.toISOString() }] });
      return;
    }
    const name = `${target.metadata?.name}.${now.getTime().toString(16)}${Math.floor(Math.random() * 0xfff).toString(16)}`;
    const event: CoreV1Event = {
      metadata: { name, namespace },
      involvedObject: { apiVersion: target.apiVersion, kind: target.kind, name: target.metadata?.name, namespace, uid: target.metadata?.uid, resourceVersion: target.metadata?.resourceVersion },
      reason,
      message,
      type,
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
      source: { component: this.component },
      reportingComponent: this.component,
      reportingInstance: process.env.POD_NAME ?? this.component,
    };
    await this.api.createNamespacedEvent({ namespace, body: event });
    this.recent.set(key, { name, count: 1, at: now.getTime() });
    if (this.recent.size > 5000) this.recent.delete(this.recent.keys().next().value!);
  }
}
