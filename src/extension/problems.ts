import * as vscode from 'vscode';
import { findNodeAtLocation, parseTree, type JSONPath } from 'jsonc-parser';
import { adviceFor } from '../core/job/advice';
import { checkJobText } from '../core/job/parse';
import { fixTitle, jobFixEdits, type JobFix } from '../core/job/edits';
import type { Run, RunManager } from './runs';

interface Entry {
  diagnostic: vscode.Diagnostic;
  path: JSONPath;
  fixes: JobFix[];
  totalSteps: number;
  lrAtEvent?: number;
  count: number;
  baseMessage: string;
}

/**
 * Problems entries for run events, on the job-file line a user would change, with quick fixes; and
 * the job file's schema and rule problems as you type, each once, as errors.
 */
export class JobProblems implements vscode.Disposable, vscode.CodeActionProvider {
  static readonly metadata: vscode.CodeActionProviderMetadata = { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] };
  private readonly runDiagnostics = vscode.languages.createDiagnosticCollection('gradscope');
  private readonly ruleDiagnostics = vscode.languages.createDiagnosticCollection('gradscope-job');
  /** Per job file: its run-event entries, keyed by event kind and job path. */
  private readonly entries = new Map<string, Map<string, Entry>>();
  private readonly disposables: vscode.Disposable[] = [this.runDiagnostics, this.ruleDiagnostics];

  constructor(runs: RunManager) {
    this.disposables.push(
      runs.onDidAddRun((run) => run.live && this.follow(run)),
      vscode.languages.registerCodeActionsProvider({ pattern: '**/*.gradscope.json' }, this, JobProblems.metadata),
      vscode.workspace.onDidOpenTextDocument((doc) => this.checkRules(doc)),
      vscode.workspace.onDidChangeTextDocument((e) => {
        this.checkRules(e.document);
        this.followEdits(e.document);
      }),
      vscode.workspace.onDidCloseTextDocument((doc) => this.ruleDiagnostics.delete(doc.uri)),
    );
    vscode.workspace.textDocuments.forEach((doc) => this.checkRules(doc));
  }

  /** Shows every problem of a job file (used when a run is refused because the job is invalid). */
  showJobProblems(uri: vscode.Uri, text: string): void {
    this.ruleDiagnostics.set(uri, this.jobDiagnostics(text));
  }

  private checkRules(doc: vscode.TextDocument): void {
    if (!doc.uri.path.endsWith('.gradscope.json')) return;
    this.ruleDiagnostics.set(doc.uri, this.jobDiagnostics(doc.getText()));
  }

  /**
   * The schema's problems and the rules a schema cannot state, as errors, each once: Gradscope owns
   * them (VS Code's JSON service gets a documentation-only schema, see scripts/docs-schema.mjs). JSON
   * syntax errors are the JSON service's own, already errors, so they are left to it.
   */
  private jobDiagnostics(text: string): vscode.Diagnostic[] {
    const { problems } = checkJobText(text);
    return problems.filter((p) => p.origin !== 'syntax').map((p) => this.toDiagnostic(p.range!, `${p.path || 'job'} ${p.message}`, vscode.DiagnosticSeverity.Error));
  }

  private toDiagnostic(range: { start: { line: number; character: number }; end: { line: number; character: number } }, message: string, severity: vscode.DiagnosticSeverity): vscode.Diagnostic {
    const diagnostic = new vscode.Diagnostic(new vscode.Range(range.start.line, range.start.character, range.end.line, range.end.character), message, severity);
    diagnostic.source = 'Gradscope';
    return diagnostic;
  }

  private follow(run: Run): void {
    if (!run.jobUri || !run.jobText) return;
    const key = run.jobUri.toString();
    this.entries.set(key, new Map());
    this.runDiagnostics.delete(run.jobUri);
    run.onDidChange((change) => {
      if (change.type !== 'event') return;
      if ('severity' in change.event && change.event.severity === 'info') return;
      const advice = adviceFor(change.event, run.jobText!, { totalSteps: run.snapshot.totalSteps, plannedLr: run.snapshot.plannedLr });
      if (!advice) return;
      const entries = this.entries.get(key)!;
      const id = `${change.event.kind}|${advice.path.join('.')}`;
      const existing = entries.get(id);
      if (existing) {
        existing.count++;
        existing.diagnostic.message = `${existing.baseMessage} (${existing.count - 1} more later)`;
      } else {
        const diagnostic = new vscode.Diagnostic(
          this.rangeOf(run.jobUri!, run.jobText!, advice.path),
          advice.message,
          advice.severity === 'error' ? vscode.DiagnosticSeverity.Error : advice.severity === 'warning' ? vscode.DiagnosticSeverity.Warning : vscode.DiagnosticSeverity.Information,
        );
        diagnostic.source = 'Gradscope';
        diagnostic.code = change.event.kind;
        entries.set(id, { diagnostic, path: advice.path, fixes: advice.fixes, totalSteps: run.snapshot.totalSteps, lrAtEvent: advice.lrAtEvent, count: 1, baseMessage: advice.message });
      }
      this.runDiagnostics.set(
        run.jobUri!,
        [...entries.values()].map((e) => e.diagnostic),
      );
    });
  }

  /** A run's entries stay on the field they are about while the user edits the file. */
  private followEdits(doc: vscode.TextDocument): void {
    const entries = this.entries.get(doc.uri.toString());
    if (!entries || entries.size === 0) return;
    for (const entry of entries.values()) entry.diagnostic.range = this.rangeOf(doc.uri, doc.getText(), entry.path);
    this.runDiagnostics.set(
      doc.uri,
      [...entries.values()].map((e) => e.diagnostic),
    );
  }

  /** Range of a job path in the document as it is now (it may have changed since the run began). */
  rangeOf(uri: vscode.Uri, fallbackText: string, path: JSONPath): vscode.Range {
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    const text = doc?.getText() ?? fallbackText;
    const root = parseTree(text);
    let node = root ? findNodeAtLocation(root, path) : undefined;
    // A value's key reads best ("lr": 0.1 → the whole property).
    if (node?.parent?.type === 'property') node = node.parent;
    if (!node) return new vscode.Range(0, 0, 0, 1);
    const position = (offset: number) => {
      const before = text.slice(0, offset).split('\n');
      return new vscode.Position(before.length - 1, before[before.length - 1].length);
    };
    return new vscode.Range(position(node.offset), position(node.offset + node.length));
  }

  provideCodeActions(document: vscode.TextDocument, _range: vscode.Range, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const entries = this.entries.get(document.uri.toString());
    if (!entries) return [];
    const actions: vscode.CodeAction[] = [];
    const seen = new Set<JobFix>();
    for (const diagnostic of context.diagnostics) {
      if (diagnostic.source !== 'Gradscope') continue;
      // Matched by kind and message, not range: edits above a diagnostic move it.
      const entry = [...entries.values()].find((e) => e.diagnostic.code === diagnostic.code && diagnostic.message.startsWith(e.baseMessage));
      for (const fix of entry?.fixes ?? []) {
        if (seen.has(fix)) continue;
        const edits = jobFixEdits(document.getText(), fix, entry!.totalSteps, entry!.lrAtEvent);
        if (edits.length === 0) continue;
        seen.add(fix);
        const title = fixTitle(document.getText(), fix, { totalSteps: entry!.totalSteps, lrAtEvent: entry!.lrAtEvent });
        const action = new vscode.CodeAction(title, vscode.CodeActionKind.QuickFix);
        action.diagnostics = [diagnostic];
        action.isPreferred = fix === entry!.fixes[0];
        action.edit = new vscode.WorkspaceEdit();
        for (const edit of edits) action.edit.replace(document.uri, new vscode.Range(document.positionAt(edit.offset), document.positionAt(edit.offset + edit.length)), edit.content);
        actions.push(action);
      }
    }
    return actions;
  }

  dispose(): void {
    this.disposables.forEach((d) => d.dispose());
  }
}
