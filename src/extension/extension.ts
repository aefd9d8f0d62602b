import * as vscode from 'vscode';

/**
 * Entry point of the extension host. The foundation registers every contributed command so that
 * none fails with "command not found"; the training and panel issues replace these handlers.
 */
export function activate(context: vscode.ExtensionContext): void {
  const pending: Record<string, string> = {
    'gradscope.train': 'Train with Schedule',
    'gradscope.stop': 'Stop Training',
    'gradscope.showPanel': 'Show Diagnostics Panel',
    'gradscope.openRun': 'Open Run…',
    'gradscope.findLearningRate': 'Find Learning Rate',
    'gradscope.compareSchedules': 'Compare Schedules',
    'gradscope.previewSchedule': 'Preview Schedule',
    'gradscope.watchMetrics': 'Watch Metrics File…',
    'gradscope.openTensorBoard': 'Open TensorBoard Log…',
  };
  for (const [command, title] of Object.entries(pending)) {
    context.subscriptions.push(
      vscode.commands.registerCommand(command, () =>
        vscode.window.showInformationMessage(`Gradscope: "${title}" is not available in this version yet.`)),
    );
  }
}

export function deactivate(): void {}
