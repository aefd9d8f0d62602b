// Live control of a run through `control.json` in its folder, as the Python package (python/gradscope)
// reads it: the desired state, written whole and atomically (temporary file + rename). A key that is
// absent leaves that setting as it is; `clipThreshold: null` turns clipping off.
import { existsSync, readFileSync, readlinkSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { isObject } from '../core/logs/formats';
import { parseJsonLine } from '../core/runlog/jsonLine';
import { RUN_FILES } from '../core/runlog/layout';

export const CONTROL_FILE = 'control.json';

export interface ControlRequest {
  /** Ends the run after the current step (sticky: a stopped run does not restart). */
  stop?: boolean;
  /** true blocks the loop inside its next step until false (or a stop) arrives. */
  pause?: boolean;
  /** Multiplies every param group's learning rate, on top of the scheduler. Positive. */
  lrMultiplier?: number;
  /** Global-norm clip threshold (clip_grad_norm_ semantics); null: no clipping. */
  clipThreshold?: number | null;
}

/** One command-line action: stop, pause, resume, lr=<x>, clip=<x>, clip=none. Throws an Error naming it. */
export function parseControlAction(action: string): ControlRequest {
  const text = action.trim();
  if (text === 'stop') return { stop: true };
  if (text === 'pause') return { pause: true };
  if (text === 'resume') return { pause: false };
  const match = /^(lr|clip)=(.*)$/.exec(text);
  if (match) {
    const [, key, raw] = match;
    if (key === 'clip' && (raw === 'none' || raw === 'off')) return { clipThreshold: null };
    const value = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(value) || value <= 0) throw new Error(`${key}= needs a positive number${key === 'clip' ? ' or none' : ''} (got ${JSON.stringify(raw)})`);
    return key === 'lr' ? { lrMultiplier: value } : { clipThreshold: value };
  }
  throw new Error(`unknown control action ${JSON.stringify(action)} (expected stop, pause, resume, lr=<multiplier>, clip=<max norm> or clip=none)`);
}

/** The state control.json asks for now ({} when there is no file, or it is not a JSON object). */
export function readControl(runDir: string): ControlRequest {
  const file = join(runDir, CONTROL_FILE);
  if (!existsSync(file)) return {};
  try {
    const value: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return isObject(value) ? (value as ControlRequest) : {};
  } catch {
    return {};
  }
}

/** Merges `request` into the run's control.json and writes it atomically; returns what was written. */
export function writeControl(runDir: string, request: ControlRequest): ControlRequest {
  const merged = { ...readControl(runDir), ...request };
  const file = join(runDir, CONTROL_FILE);
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(merged)}\n`);
  renameSync(temporary, file);
  return merged;
}

/** What the package writes last: its presence means the loop has ended. */
export interface PythonRunEnd {
  status: 'finished' | 'stopped' | 'failed';
  message?: string;
}

/**
 * The run folder a metrics file belongs to when the gradscope Python package writes it (its job.json
 * says `"source": "gradscope-python"`) and the loop is still running (no summary.json yet, and its
 * process, when it runs on this machine, is alive).
 */
export function livePythonRunDir(metricsFile: string): string | undefined {
  const dir = dirname(metricsFile);
  if (basename(metricsFile) !== RUN_FILES.metrics || existsSync(join(dir, RUN_FILES.summary))) return undefined;
  const job = readJob(dir);
  return job?.source === 'gradscope-python' && !processGone(job) ? dir : undefined;
}

/**
 * Why a run folder without summary.json will never get one: its loop's process (job.json's `pid`, on
 * this machine by `host`) no longer runs — killed (out of memory, SIGKILL) or crashed before it could
 * write it. Undefined while it runs, or when that cannot be known (another machine, no pid).
 */
export function runProcessGone(runDir: string): string | undefined {
  const job = readJob(runDir);
  return job && processGone(job) ? `its process (pid ${String(job.pid)}) ended without writing ${RUN_FILES.summary}: killed (out of memory?) or crashed` : undefined;
}

function readJob(dir: string): Record<string, unknown> | undefined {
  try {
    const job: unknown = JSON.parse(readFileSync(join(dir, RUN_FILES.job), 'utf8'));
    return isObject(job) ? job : undefined;
  } catch {
    return undefined;
  }
}

function processGone(job: Record<string, unknown>): boolean {
  const pid = job.pid;
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0 || job.host !== hostname()) return false;
  if (process.platform === 'linux') {
    // A container on this host (same name, own pids) and a pid reused after the loop ended both
    // fool a bare pid check: the package records its PID namespace and start time to tell.
    let namespace: string;
    try {
      namespace = readlinkSync('/proc/self/ns/pid');
    } catch {
      return false;
    }
    if (typeof job.pidNamespace !== 'string' || job.pidNamespace !== namespace) return false; // not ours to tell
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return true; // no such process
    }
    return typeof job.processStart === 'string' && startTimeOf(stat) !== job.processStart;
  }
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Field 22 of /proc/<pid>/stat, the start time in clock ticks since boot (after the command, which may hold spaces). */
export function startTimeOf(stat: string): string | undefined {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

export interface ControlFileControllerOptions {
  /** Called once when summary.json appears (the loop ended), or when the loop's process is gone without it. */
  onEnd?: (end: PythonRunEnd) => void;
  /** A request that could not be written (one line, naming the file). */
  onError?: (message: string) => void;
  /** How often to look for summary.json, in milliseconds. Default: 500. */
  pollMs?: number;
}

/**
 * Stop, Pause, LR× and Clip for a loop the Python package monitors: each is merged into its
 * control.json (atomically), which the loop reads at most every 100 ms. Once the loop has ended
 * (summary.json), nothing is written and the requests answer false.
 */
export class ControlFileController {
  private readonly timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    readonly runDir: string,
    private readonly options: ControlFileControllerOptions = {},
  ) {
    if (options.onEnd) {
      this.timer = setInterval(() => this.lookForEnd(), options.pollMs ?? 500);
      this.timer.unref?.();
    }
  }

  stop(): boolean {
    return this.write({ stop: true });
  }

  pause(): boolean {
    return this.write({ pause: true });
  }

  resume(): boolean {
    return this.write({ pause: false });
  }

  setLrMultiplier(value: number): void {
    this.write({ lrMultiplier: value });
  }

  setClipThreshold(value: number): void {
    this.write({ clipThreshold: value });
  }

  get ended(): boolean {
    return existsSync(join(this.runDir, RUN_FILES.summary));
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private write(request: ControlRequest): boolean {
    if (this.ended) return false;
    try {
      writeControl(this.runDir, request);
      return true;
    } catch (error) {
      this.options.onError?.(`${join(this.runDir, CONTROL_FILE)}: ${(error as Error).message}`);
      return false;
    }
  }

  private lookForEnd(): void {
    if (!this.ended) {
      const gone = runProcessGone(this.runDir);
      if (gone) {
        this.dispose();
        this.options.onEnd?.({ status: 'failed', message: gone });
      }
      return;
    }
    this.dispose();
    let end: PythonRunEnd = { status: 'finished' };
    try {
      const summary = parseJsonLine(readFileSync(join(this.runDir, RUN_FILES.summary), 'utf8')) as { status?: unknown; message?: unknown };
      const status = summary.status === 'stopped' || summary.status === 'failed' ? summary.status : 'finished';
      end = { status, ...(typeof summary.message === 'string' ? { message: summary.message } : {}) };
    } catch {
      // A summary that cannot be read still means the loop ended.
    }
    this.options.onEnd?.(end);
  }
}

/** The command line that installs the package; paths with spaces are quoted (PowerShell needs `&` for a quoted program). */
export function pipInstallCommand(python: string, packageDir: string, windows: boolean): string {
  const quote = (text: string) => (/[\s"'$`&()]/.test(text) ? `"${text.replace(/"/g, '\\"')}"` : text);
  const program = quote(python);
  return `${windows && program.startsWith('"') ? '& ' : ''}${program} -m pip install ${quote(packageDir)}`;
}
