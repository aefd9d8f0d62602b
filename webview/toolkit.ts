// The one place the webview UI toolkit is registered: the few controls (buttons, checkboxes, the
// events grid, text fields) come from it; the charts and run list are plain elements.
import {
  provideVSCodeDesignSystem,
  vsCodeButton,
  vsCodeCheckbox,
  vsCodeDataGrid,
  vsCodeDataGridCell,
  vsCodeDataGridRow,
  vsCodeDropdown,
  vsCodeOption,
  vsCodeTextField,
} from '@vscode/webview-ui-toolkit';

export function registerToolkit(): void {
  provideVSCodeDesignSystem().register(vsCodeButton(), vsCodeCheckbox(), vsCodeDropdown(), vsCodeOption(), vsCodeDataGrid(), vsCodeDataGridRow(), vsCodeDataGridCell(), vsCodeTextField());
}

/** A toolkit checkbox's state (it is not an <input>). */
export function isChecked(element: Element): boolean {
  return (element as HTMLElement & { checked?: boolean }).checked === true;
}
