// A stand-in EventSource for page tests: the test sends the server's events.

export class FakeEventSource {
  static CLOSED = 2;
  static opened: FakeEventSource[] = [];
  readyState = 1;
  onerror: (() => void) | null = null;
  private listeners: Record<string, ((e: MessageEvent) => void)[]> = {};

  constructor(public url: string) {
    FakeEventSource.opened.push(this);
  }

  addEventListener(type: string, listener: (e: MessageEvent) => void) {
    (this.listeners[type] ??= []).push(listener);
  }

  close() {
    this.readyState = FakeEventSource.CLOSED;
  }

  emit(type: string, data: unknown) {
    for (const listener of this.listeners[type] ?? []) listener(new MessageEvent(type, { data: JSON.stringify(data) }));
  }

  /** The server refused the stream (e.g. 404): the browser gives up and says so. */
  fail() {
    this.readyState = FakeEventSource.CLOSED;
    this.onerror?.();
  }

  /** The stream still open (StrictMode opens one, closes it, and opens another). */
  static latest(): FakeEventSource {
    const open = FakeEventSource.opened.filter((s) => s.readyState !== FakeEventSource.CLOSED);
    return open[open.length - 1] ?? FakeEventSource.opened[FakeEventSource.opened.length - 1];
  }
}
