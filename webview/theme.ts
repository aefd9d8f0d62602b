// Colours come from the theme's --vscode-* variables, read again when the theme changes.
import type { RunEventKind } from '../src/core/protocol';

export interface Palette {
  foreground: string;
  muted: string;
  grid: string;
  series: string[];
  kind: Record<RunEventKind, string>;
}

export function readPalette(): Palette {
  const css = getComputedStyle(document.body);
  const v = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
  const red = v('--vscode-charts-red', '#f14c4c');
  const orange = v('--vscode-charts-orange', '#d18616');
  const yellow = v('--vscode-charts-yellow', '#cca700');
  const blue = v('--vscode-charts-blue', '#3794ff');
  const green = v('--vscode-charts-green', '#89d185');
  const purple = v('--vscode-charts-purple', '#b180d7');
  return {
    foreground: v('--vscode-foreground', '#cccccc'),
    muted: v('--vscode-descriptionForeground', '#999999'),
    grid: v('--vscode-editorWidget-border', v('--vscode-panel-border', '#444444')),
    series: [blue, green, orange, purple, yellow, red],
    kind: { explosion: red, nonFinite: purple, vanishing: blue, lossSpike: orange, divergence: red, guard: yellow, lrCut: green },
  };
}

/** Calls back when VS Code switches theme (it changes the body's class and the variables). */
export function onThemeChange(callback: () => void): void {
  new MutationObserver(callback).observe(document.body, { attributes: true, attributeFilter: ['class'] });
}
