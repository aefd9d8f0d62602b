// Colours come from the theme's --vscode-* variables, read again when the theme changes.
import type { RunEventKind } from '../src/core/protocol';

export interface Palette {
  foreground: string;
  muted: string;
  grid: string;
  series: string[];
  kind: Record<RunEventKind, string>;
  /** The drag-zoom selection and the crosshair. */
  selection: string;
  crosshair: string;
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
    selection: v('--vscode-editor-selectionBackground', 'rgba(38, 79, 120, 0.5)'),
    crosshair: v('--vscode-editorCursor-foreground', v('--vscode-foreground', '#cccccc')),
    kind: { explosion: red, nonFinite: purple, vanishing: blue, lossSpike: orange, divergence: red, guard: yellow, lrCut: green },
  };
}

/**
 * Calls back when VS Code switches theme. It changes the body's class and, separately, the
 * --vscode-* variables on the root element's style; the callback runs once both have landed (one
 * animation frame after the last change), so it reads the new colours, not the old ones.
 */
export function onThemeChange(callback: () => void): void {
  let frame: number | undefined;
  const changed = () => {
    if (frame !== undefined) cancelAnimationFrame(frame);
    frame = requestAnimationFrame(() => {
      frame = undefined;
      callback();
    });
  };
  const observer = new MutationObserver(changed);
  observer.observe(document.body, { attributes: true, attributeFilter: ['class'] });
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['style'] });
}

/** A colour at some opacity (the faint raw series behind a smoothed one, info-level markers). */
export function withAlpha(color: string, alpha: number): string {
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})([0-9a-f]{2})?$/i.exec(color.trim());
  if (hex) {
    const h =
      hex[1].length === 3
        ? hex[1]
            .split('')
            .map((c) => c + c)
            .join('')
        : hex[1];
    const [r, g, b] = [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16));
    return `rgba(${r}, ${g}, ${b}, ${alpha})`;
  }
  const rgb = /^rgba?\(([^,]+),([^,]+),([^,)]+)/.exec(color.trim());
  if (rgb) return `rgba(${rgb[1]},${rgb[2]},${rgb[3]}, ${alpha})`;
  return color;
}
