// Just enough of the `vscode` module to run the panel's host side in a unit test, counting the
// listeners that are live (registered and not yet disposed).
export const live = { listeners: 0 };

export class Disposable {
  constructor(private readonly fn: () => void = () => {}) {}
  dispose(): void {
    this.fn();
  }
}

type Listener<T> = (value: T) => void;

export class EventEmitter<T> {
  private readonly listeners = new Set<Listener<T>>();
  readonly event = (listener: Listener<T>, thisArg?: unknown, disposables?: Disposable[]): Disposable => {
    const bound: Listener<T> = (value) => listener.call(thisArg, value);
    this.listeners.add(bound);
    live.listeners++;
    let disposed = false;
    const d = new Disposable(() => {
      if (disposed) return;
      disposed = true;
      this.listeners.delete(bound);
      live.listeners--;
    });
    disposables?.push(d);
    return d;
  };
  fire(value: T): void {
    [...this.listeners].forEach((l) => l(value));
  }
  get size(): number {
    return this.listeners.size;
  }
  dispose(): void {
    this.listeners.clear();
  }
}

export class FakeWebviewPanel {
  readonly received = new EventEmitter<unknown>();
  readonly viewState = new EventEmitter<void>();
  readonly disposed = new EventEmitter<void>();
  readonly posted: { type: string; [key: string]: unknown }[] = [];
  visible = true;
  html = '';
  readonly webview = {
    cspSource: 'vscode-resource:',
    asWebviewUri: (uri: unknown) => uri,
    onDidReceiveMessage: this.received.event,
    // Structured-cloned when posted, as VS Code does: a later change to the host's data is not in it.
    postMessage: async (message: { type: string }) => {
      this.posted.push(structuredClone(message));
      return true;
    },
    set html(value: string) {
      void value;
    },
  };
  onDidChangeViewState = this.viewState.event;
  onDidDispose = this.disposed.event;
  reveal(): void {}
  dispose(): void {
    this.disposed.fire();
  }
  /** The webview says something to the host. */
  say(message: unknown): void {
    this.received.fire(message);
  }
}

export const panels: FakeWebviewPanel[] = [];

export const window = {
  createWebviewPanel: () => {
    const panel = new FakeWebviewPanel();
    panels.push(panel);
    return panel;
  },
};
export const Uri = { joinPath: (base: { path: string }, ...parts: string[]) => ({ path: [base.path, ...parts].join('/') }) };
export const ViewColumn = { One: 1, Beside: -2 };
export const TextEditorRevealType = { InCenterIfOutsideViewport: 2 };
export class Range {
  constructor(
    readonly startLine: number,
    readonly startCharacter: number,
    readonly endLine: number,
    readonly endCharacter: number,
  ) {}
}
