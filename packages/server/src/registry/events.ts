/**
 * Registry events. Every mutation produces its events inside the transaction that makes the
 * change, and hands them to the EventSink in that same transaction: no change without its event,
 * no event without its change. Webhook delivery and the audit history both read these rows.
 *
 * `entity`/`action` are MLflow's webhook names (lower case) where MLflow has such an event; the
 * mutations MLflow does not announce (rename, update, stage transition, deletes, model tags) carry
 * `webhook: false` and exist for the audit history only.
 */
import type { Executor } from '../store/db.js';
import type { InlineEvents } from '../store/inline-events.js';

// Part of the EventSink port; the store owns it (its writes take it).
export type { InlineEvents };

export interface RegistryEvent {
  entity: string;
  action: string;
  /** Registered model (or prompt) name the event concerns. */
  name: string;
  version?: number;
  alias?: string;
  /** The webhook payload (MLflow's `data`), or the audit details for non-webhook events. */
  data: Record<string, unknown>;
  /** State before the change, where it applies (audit history). */
  before?: Record<string, unknown> | null;
  /** Whether MLflow delivers this event to webhooks. */
  webhook: boolean;
  /**
   * Events of a one-statement write (EventSink.inline), which the statement completes: the created
   * version (its number, and `data.version` as a string, which must then be the key after `name`),
   * `before` as the statement saw it, and `when`: kept only if the model is (or is not) a prompt.
   */
  pendingVersion?: true;
  beforeFromChange?: true;
  when?: 'prompt' | 'not_prompt';
}

export interface EventSink {
  /**
   * `changed`: changedModelNames(events), which the caller needs too (read-cache invalidation);
   * `actor`: the authenticated user who made the change (null when authentication is off);
   * `workspace`: the workspace the change was made in (its events and deliveries belong to it).
   */
  record(tx: Executor, events: readonly RegistryEvent[], at: number, changed: readonly string[], actor?: string | null, workspace?: string): Promise<void>;
  /** The same events for the change's own statement (same arguments). */
  inline(events: readonly RegistryEvent[], at: number, changed: readonly string[], actor?: string | null, workspace?: string): InlineEvents;
}

/** Events that go nowhere: the change's statement still needs its (empty) parts. */
const NO_INLINE_EVENTS: InlineEvents = { ctes: () => ({ text: '', params: [] }), columns: '', done: () => {} };

export const noEvents: EventSink = { record: async () => {}, inline: () => NO_INLINE_EVENTS };

/** The models a set of events changed (renames: both names), for read-cache invalidation. */
export function changedModelNames(events: readonly RegistryEvent[]): string[] {
  const names = new Set<string>();
  for (const e of events) {
    names.add(e.name);
    const before = e.before?.name;
    if (typeof before === 'string') names.add(before);
  }
  return [...names];
}
