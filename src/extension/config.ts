// Every `gradscope.*` setting, read in one place into one typed object (as rust-analyzer's Config).
// Only a type comes from vscode, so the mapping is testable without an editor.
import type { WorkspaceConfiguration } from 'vscode';
import type { ColumnMapping } from '../core/logs/columns';
import type { RunSettings } from '../node/trainRequest';

/** The extension's settings; each field's default is package.json's (a unit test keeps them equal). */
export interface Config {
  /** `gradscope.backend`: backend for jobs that leave theirs at 'auto'. Default: 'auto'. */
  backend: RunSettings['backend'];
  /** `gradscope.runsDirectory`, relative to the job's workspace folder. Default: '.gradscope/runs'. */
  runsDirectory: string;
  /** `gradscope.detect.*`: thresholds for jobs that do not set them. Defaults: ratio 5, z 3.5, floor 1e-7. */
  detect: { explosionRatio: number; explosionZ: number; vanishingFloor: number };
  statusBar: {
    /** `gradscope.statusBar.enabled`. Default: true. */
    enabled: boolean;
    /** `gradscope.statusBar.alertOn`. Default: 'explosion'. */
    alertOn: 'explosion' | 'any' | 'none';
  };
  /** `gradscope.compare.parallel`: strategies trained at once. Default: 1. */
  compareParallel: number;
  /** `gradscope.metrics.columns`: the log column holding each field. Default: {}. */
  metricsColumns: ColumnMapping;
}

/** Reads the settings from `getConfiguration('gradscope', scope)`, falling back to the defaults. */
export function readConfig(section: Pick<WorkspaceConfiguration, 'get'>): Config {
  const get = <T>(key: string, fallback: T): T => section.get<T>(key) ?? fallback;
  return {
    backend: get('backend', 'auto'),
    runsDirectory: get('runsDirectory', '.gradscope/runs'),
    detect: {
      explosionRatio: get('detect.explosionRatio', 5),
      explosionZ: get('detect.explosionZ', 3.5),
      vanishingFloor: get('detect.vanishingFloor', 1e-7),
    },
    statusBar: { enabled: get('statusBar.enabled', true), alertOn: get('statusBar.alertOn', 'explosion') },
    compareParallel: get('compare.parallel', 1),
    metricsColumns: get('metrics.columns', {}),
  };
}

/** What every trainer run takes from the settings. */
export function runSettings(config: Config): RunSettings {
  return { backend: config.backend, detect: config.detect };
}
