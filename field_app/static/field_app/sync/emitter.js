// A small event emitter: the UI subscribes to the client's state and to per-operation answers.

export class Emitter {
  constructor() {
    this.listeners = new Map();
  }

  on(event, listener) {
    if (!this.listeners.has(event)) this.listeners.set(event, new Set());
    this.listeners.get(event).add(listener);
    return () => this.listeners.get(event)?.delete(listener);
  }

  emit(event, value) {
    for (const listener of [...(this.listeners.get(event) ?? [])]) {
      try {
        listener(value);
      } catch (error) {
        // A broken screen must not stop the sync that told it something.
        console.error("sync client: a listener failed", error);
      }
    }
  }
}
