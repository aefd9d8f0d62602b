// npm run eval:detect — the detectors (through `inspect`'s Inspector, as the CLI runs them) over every
// reference trace and real log, scored against their labels: warnings on healthy runs, injected
// spikes flagged at their step, real explosions warned about no later than one logged row after the
// first jump, the real logs' listed spikes and non-finite values, and precision over all of it.
// test/unit/detect.eval.test.ts asserts the same numbers.
import { readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { applyEvent, isUpgrade, type DetectorEvent } from '../src/core/detect';
import { Inspector } from '../src/core/logs/inspect';
import { loadTrainingLogs, type LoadedRun } from '../src/node/logs/read';

type Kind = 'healthy' | 'spiky' | 'real-explosion' | 'injected';

interface Label {
  kind: Kind;
  /** Steps a detector must flag at their own step (any severity). */
  spikes: number[];
  /** Which series those spikes are in. */
  signal: 'gradNorm' | 'loss' | 'validationLoss';
  nonFinite: number[];
  /** Non-finite steps that must carry the loss-scaler hint. */
  scalerSkips: number[];
  /** Neither required nor a false alarm. */
  ambiguous: number[];
  firstJump?: number;
}

interface Flag {
  event: DetectorEvent;
  row: number;
}

export interface RunScore {
  name: string;
  kind: Kind;
  rows: number;
  /** Final events (regraded copies applied). */
  events: DetectorEvent[];
  warnings: number;
  infos: number;
  /** Flags at labelled steps / elsewhere (ambiguous steps excluded), and the same for warnings. */
  trueFlags: number;
  falseFlags: number;
  trueWarnings: number;
  falseWarnings: number;
  targets: number;
  hits: number;
  firstJump?: number;
  /** For real explosions: logged rows from the first jump to the first warning about it (≤ 1 passes). */
  warnedAfterRows?: number;
  missed: string[];
  notes: string[];
}

export interface Evaluation {
  runs: RunScore[];
  healthyRuns: number;
  healthyWarnings: number;
  healthyInfos: number;
  injected: { spikes: number; flagged: number };
  explosions: { runs: number; warnedInTime: number; flaggedInTime: number };
  listed: { spikes: number; flagged: number; nonFinite: number; nonFiniteFlagged: number; scalerSkips: number; scalerHinted: number };
  precision: number;
  warningPrecision: number;
  recall: number;
}

/** ../shared beside the clone (as CI lays it out), or GRADSCOPE_SHARED. */
export function sharedRoot(): string {
  return resolve(process.env.GRADSCOPE_SHARED ?? resolve(__dirname, '../../shared'));
}

function label(raw: Partial<Label> & { kind: Kind }): Label {
  return { spikes: [], signal: 'gradNorm', nonFinite: [], scalerSkips: [], ambiguous: [], ...raw };
}

function traceLabels(dir: string): Map<string, Label> {
  type Raw = { kind: Kind; first_jump?: number; spikes?: [number, number][] };
  const raw = JSON.parse(readFileSync(join(dir, 'labels.json'), 'utf8')) as Record<string, Raw>;
  const labels = new Map<string, Label>();
  for (const [name, l] of Object.entries(raw)) {
    const big = (l.spikes ?? []).filter(([, f]) => f >= 10).map(([s]) => s);
    const small = (l.spikes ?? []).filter(([, f]) => f < 10).map(([s]) => s);
    labels.set(`${name}.jsonl`, label({ kind: l.kind, spikes: big, ambiguous: small, ...(l.first_jump !== undefined ? { firstJump: l.first_jump } : {}) }));
  }
  return labels;
}

function logLabels(): Map<string, Label> {
  const raw = JSON.parse(readFileSync(join(__dirname, '../test/fixtures/real-log-labels.json'), 'utf8')) as { files: Record<string, Partial<Label> & { kind: Kind }> };
  return new Map(Object.entries(raw.files).map(([path, l]) => [path, label(l)]));
}

/** Feeds a run's rows; returns every event with the row (index) that raised it, and the notes. */
function detect(run: LoadedRun): { flags: Flag[]; notes: string[]; steps: number[] } {
  const inspector = new Inspector();
  const flags: Flag[] = [];
  run.rows.forEach((row, index) => {
    for (const event of inspector.add(row)) flags.push({ event, row: index });
  });
  return { flags, notes: inspector.result().notes, steps: run.rows.map((r) => r.step) };
}

const signalOf = (event: DetectorEvent): Label['signal'] | 'nonFinite' | 'other' =>
  event.kind === 'explosion' ? 'gradNorm' : event.kind === 'lossSpike' ? (event.series === 'validation' ? 'validationLoss' : 'loss') : event.kind === 'nonFinite' ? 'nonFinite' : 'other';

function score(name: string, run: LoadedRun, l: Label): RunScore {
  const { flags, notes, steps } = detect(run);
  const events = flags.reduce<DetectorEvent[]>((list, { event }) => applyEvent(list, event), []);
  const labelled = new Set([...l.spikes, ...l.nonFinite]);
  const ambiguous = new Set(l.ambiguous);
  const isTrue = (e: DetectorEvent) => (l.kind === 'real-explosion' ? e.step >= l.firstJump! - 2 : labelled.has(e.step));
  const s: RunScore = {
    name,
    kind: l.kind,
    rows: run.rows.length,
    events,
    notes,
    missed: [],
    ...(l.firstJump !== undefined ? { firstJump: l.firstJump } : {}),
    warnings: events.filter((e) => e.severity === 'warning').length,
    infos: events.filter((e) => e.severity === 'info').length,
    trueFlags: 0,
    falseFlags: 0,
    trueWarnings: 0,
    falseWarnings: 0,
    targets: 0,
    hits: 0,
  };
  for (const e of events) {
    if (ambiguous.has(e.step) && !isTrue(e)) continue;
    const good = l.kind !== 'healthy' && isTrue(e);
    if (good) s.trueFlags++;
    else s.falseFlags++;
    if (e.severity === 'warning') {
      if (good) s.trueWarnings++;
      else s.falseWarnings++;
    }
  }
  for (const step of l.spikes) {
    s.targets++;
    if (events.some((e) => e.step === step && signalOf(e) === l.signal)) s.hits++;
    else s.missed.push(`${l.signal} spike at ${step}`);
  }
  for (const step of l.nonFinite) {
    s.targets++;
    const event = events.find((e) => e.step === step && e.kind === 'nonFinite');
    if (event) s.hits++;
    else s.missed.push(`non-finite at ${step}`);
    if (l.scalerSkips.includes(step) && !(event?.kind === 'nonFinite' && event.hint === 'lossScalerSkip')) s.missed.push(`no loss-scaler hint at ${step}`);
  }
  if (l.kind === 'real-explosion') {
    const jumpRow = steps.indexOf(l.firstJump!);
    const warned = flags.find(({ event }) => event.severity === 'warning' && event.step >= l.firstJump! - 2 && event.step <= l.firstJump! + 1 && (isUpgrade(event) || event.kind !== 'vanishing'));
    s.warnedAfterRows = warned ? warned.row - jumpRow : undefined;
    if (!l.spikes.includes(l.firstJump!)) {
      s.targets++;
      if (warned && warned.row <= jumpRow + 1) s.hits++;
      else s.missed.push(`no warning by one row after the first jump at ${l.firstJump}`);
    }
  }
  return s;
}

export async function evaluateDetectors(root = sharedRoot()): Promise<Evaluation> {
  const runs: RunScore[] = [];
  const traces = join(root, 'reference/traces');
  for (const [file, l] of traceLabels(traces)) {
    for (const run of await loadTrainingLogs(join(traces, file))) runs.push(score(`traces/${file}`, run, l));
  }
  const logs = join(root, 'reference/logs');
  const labels = logLabels();
  for (const run of await loadTrainingLogs(logs)) {
    const path = relative(logs, 'file' in run.source ? run.source.file : run.source.dir);
    const key = [...labels.keys()].find((k) => path === k || path.startsWith(`${k}/`));
    if (!key) throw new Error(`${path}: no label in test/fixtures/real-log-labels.json`);
    runs.push(score(`logs/${path}`, run, labels.get(key)!));
  }
  const sum = (pick: (r: RunScore) => number, filter: (r: RunScore) => boolean = () => true) => runs.filter(filter).reduce((a, r) => a + pick(r), 0);
  const healthy = (r: RunScore) => r.kind === 'healthy';
  const injected = (r: RunScore) => r.kind === 'injected';
  const exploding = runs.filter((r) => r.kind === 'real-explosion');
  const listedRuns = (r: RunScore) => r.name.startsWith('logs/') && r.kind !== 'healthy';
  const labelsOf = (r: RunScore) => labels.get([...labels.keys()].find((k) => r.name === `logs/${k}` || r.name.startsWith(`logs/${k}/`))!)!;
  const listedSpikes = sum((r) => labelsOf(r).spikes.length, listedRuns);
  const listedNonFinite = sum((r) => labelsOf(r).nonFinite.length, listedRuns);
  const missedOf = (r: RunScore, prefix: RegExp) => r.missed.filter((m) => prefix.test(m)).length;
  const trueFlags = sum((r) => r.trueFlags);
  const trueWarnings = sum((r) => r.trueWarnings);
  return {
    runs,
    healthyRuns: runs.filter(healthy).length,
    healthyWarnings: sum((r) => r.warnings, healthy),
    healthyInfos: sum((r) => r.infos, healthy),
    injected: { spikes: sum((r) => r.targets, injected), flagged: sum((r) => r.hits, injected) },
    explosions: {
      runs: exploding.length,
      warnedInTime: exploding.filter((r) => r.warnedAfterRows !== undefined && r.warnedAfterRows <= 1).length,
      flaggedInTime: exploding.filter((r) => r.events.some((e) => e.step >= r.firstJump! - 2 && e.step <= r.firstJump! + 1)).length,
    },
    listed: {
      spikes: listedSpikes,
      flagged: listedSpikes - sum((r) => missedOf(r, /spike at/), listedRuns),
      nonFinite: listedNonFinite,
      nonFiniteFlagged: listedNonFinite - sum((r) => missedOf(r, /^non-finite/), listedRuns),
      scalerSkips: sum((r) => labelsOf(r).scalerSkips.length, listedRuns),
      scalerHinted: sum((r) => labelsOf(r).scalerSkips.length - missedOf(r, /loss-scaler/), listedRuns),
    },
    precision: trueFlags / (trueFlags + sum((r) => r.falseFlags)),
    warningPrecision: trueWarnings / (trueWarnings + sum((r) => r.falseWarnings)),
    recall: sum((r) => r.hits) / sum((r) => r.targets),
  };
}

export function formatEvaluation(e: Evaluation): string {
  const pct = (n: number, d: number) => `${n}/${d} (${d ? ((100 * n) / d).toFixed(0) : '–'} %)`;
  const lines = e.runs.map((r) => {
    const counts = `${String(r.warnings).padStart(3)} warn ${String(r.infos).padStart(3)} info`;
    const extra = [
      r.targets ? `targets ${r.hits}/${r.targets}` : '',
      r.warnedAfterRows !== undefined ? `warned ${r.warnedAfterRows} row(s) after the first jump` : '',
      r.missed.length ? `missed: ${r.missed.join('; ')}` : '',
      r.notes.length ? `notes: ${r.notes.length}` : '',
    ]
      .filter(Boolean)
      .join(', ');
    return `${r.kind.padEnd(14)} ${r.name.slice(0, 70).padEnd(70)} ${counts}  ${extra}`;
  });
  return [
    ...lines,
    '',
    `healthy runs: ${e.healthyRuns}, warning-level events on them: ${e.healthyWarnings} (info: ${e.healthyInfos})`,
    `injected spikes ≥10× flagged at their step: ${pct(e.injected.flagged, e.injected.spikes)}`,
    `real explosions with a warning no later than one logged row after the first jump: ${pct(e.explosions.warnedInTime, e.explosions.runs)} (flagged at any severity: ${e.explosions.flaggedInTime})`,
    `real logs' listed spikes ≥10× flagged at their step: ${pct(e.listed.flagged, e.listed.spikes)}; non-finite values: ${pct(e.listed.nonFiniteFlagged, e.listed.nonFinite)}, with the loss-scaler hint: ${pct(e.listed.scalerHinted, e.listed.scalerSkips)}`,
    `precision (all events): ${e.precision.toFixed(3)}; precision (warnings): ${e.warningPrecision.toFixed(3)}; recall (all targets): ${e.recall.toFixed(3)}`,
  ].join('\n');
}

if (require.main === module) {
  evaluateDetectors().then(
    (e) => console.log(formatEvaluation(e)),
    (error: Error) => {
      console.error(`eval:detect: ${error.message}`);
      process.exit(1);
    },
  );
}
