/**
 * An abort made only when something needs it: most requests are never cancelled, so neither an
 * AbortController nor an EventTarget listener is made per request. A client request's abort (the
 * edge) and an upstream exchange's (the session) are both one: `bind` routes a later abort to the
 * live dispatch's abort function, and an AbortSignal is made on first read of `signal` (already
 * aborted if the abort came first). A session request used to carry an AbortController of its own,
 * and undici added a listener to its signal on every dispatch: ~5% of a tools/call at c=16.
 */
export class LazyAbort {
  aborted = false;
  reason: unknown = undefined;
  /** The live attempts' aborts: usually none or one (a 401 retry or a resumption GET follows the previous one). */
  private targets?: Array<(reason: unknown) => void>;
  private controller?: AbortController;

  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason ?? new DOMException('This operation was aborted', 'AbortError');
    const targets = this.targets;
    this.targets = undefined;
    // One target that throws must not keep the others (the upstream cancel, a limiter's slot) from hearing it.
    let failure: { err: unknown } | undefined;
    for (const target of targets ?? []) {
      try {
        target(this.reason);
      } catch (err) {
        failure ??= { err };
      }
    }
    this.controller?.abort(this.reason);
    if (failure) throw failure.err;
  }

  /**
   * Routes a later abort to `target`; returns the undo, called once the attempt is over. An abort that
   * already happened is not replayed: callers check `aborted` first, or use `onCancel`, which does.
   */
  bind(target: (reason: unknown) => void): () => void {
    (this.targets ??= []).push(target);
    return () => {
      const i = this.targets?.indexOf(target) ?? -1;
      if (i >= 0) this.targets!.splice(i, 1);
    };
  }

  /**
   * Aborts this one too when `parent` aborts (a call's own cancel that the client's cancel also
   * ends); returns the undo, to call once this one's work is over so a long-lived parent keeps no hold.
   */
  follow(parent: Cancel): () => void {
    return onCancel(parent, (reason) => this.abort(reason));
  }

  /** An AbortSignal tied to this exchange, for APIs that take nothing else; made on first use. */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }
}

const noop = (): void => {};

/** A cancel that never fires, for work nothing can cancel (initialize, client notifications): it holds no listener. */
class NeverAborted extends LazyAbort {
  override abort(): void {}
  override bind(): () => void {
    return noop;
  }
  override follow(): () => void {
    return noop;
  }
}
export const NEVER_ABORTED: LazyAbort = new NeverAborted();

/** What can end an exchange: a caller's AbortSignal, or a LazyAbort. Both read `aborted` and `reason`. */
export type Cancel = AbortSignal | LazyAbort;

/** Calls `fn` when `cancel` fires, at once if it already has; returns the undo. */
export function onCancel(cancel: Cancel, fn: (reason: unknown) => void): () => void {
  if (cancel.aborted) {
    fn(cancel.reason);
    return noop;
  }
  if (cancel instanceof LazyAbort) return cancel.bind(fn);
  const listener = (): void => fn(cancel.reason);
  cancel.addEventListener('abort', listener, { once: true });
  return () => cancel.removeEventListener('abort', listener);
}

/** An AbortSignal for `cancel`, for APIs that take nothing else (a LazyAbort makes its controller now). */
export function signalOf(cancel: Cancel): AbortSignal;
export function signalOf(cancel: Cancel | undefined): AbortSignal | undefined;
export function signalOf(cancel: Cancel | undefined): AbortSignal | undefined {
  return cancel instanceof LazyAbort ? cancel.signal : cancel;
}
