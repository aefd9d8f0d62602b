import { Command, CommanderError } from 'commander';
import { version } from '../../package.json';
import { SpecError } from '../core/job/specError';
import { scheduleCommand } from './scheduleCommand';
import { compareCommand, type CompareOptions } from './compareCommand';
import { controlCommand } from './controlCommand';
import { inspectCommand, type InspectOptions } from './inspectCommand';
import { FORMAT_NAMES } from '../node/logs/sources';
import { reportCommand, type ReportOptions } from './reportCommand';
import { lrFindCommand, type LrFindCommandOptions } from './lrFindCommand';
import { trainCommand, type TrainOptions } from './trainCommand';
import { UsageError } from './usageError';

const EXIT_BAD_INPUT = 2;
/** A bug in gradscope (an exception no command expected). */
const EXIT_INTERNAL = 3;

function buildProgram(): Command {
  const program = new Command('gradscope')
    .description('Train with learning-rate schedules and catch exploding gradients.')
    .version(version)
    .exitOverride()
    .showHelpAfterError('(run gradscope --help for usage)');

  program
    .command('schedule')
    .description('print the learning rate of each update for a schedule spec')
    .argument('<spec>', 'schedule as JSON, e.g. \'{"type":"cosine","lr":0.1,"tMax":100}\' (or a file holding it)')
    .option('--steps <n>', 'number of updates to print')
    .option('--metrics <list>', 'plateau only: comma-separated metric values; prints the rate after each')
    .action((spec: string, options: { steps?: string; metrics?: string }) => {
      process.stdout.write(`${JSON.stringify(scheduleCommand(spec, options))}\n`);
    });

  program
    .command('train')
    .description('train a job file in a child process, printing events as they happen')
    .argument('<job>', 'a *.gradscope.json job file')
    .option('--schedule <spec>', "override the job's schedule (JSON)")
    .option('--backend <name>', 'auto, tensorflow, wasm or cpu (overrides the job)')
    .option('--max-steps <n>', 'stop after this many updates')
    .option('--runs-dir <dir>', 'where run logs go (default: .gradscope/runs beside the job file)')
    .option('--json', 'write NDJSON to stdout: step, event, epoch and summary objects')
    .action(async (job: string, options: TrainOptions) => {
      process.exitCode = await trainCommand(job, options);
    });

  program
    .command('lr-find')
    .description('learning-rate range test: sweep the rate from fresh weights and suggest a peak')
    .argument('<job>', 'a *.gradscope.json job file (its data, model, optimizer and clipping are used)')
    .option('--start <lr>', 'first learning rate (default 1e-7)')
    .option('--end <lr>', 'last learning rate (default 10)')
    .option('--steps <n>', 'updates in the sweep (default 100)')
    .option('--backend <name>', 'auto, tensorflow, wasm or cpu')
    .option('--runs-dir <dir>', "where the sweep's run log goes")
    .option('--json', 'print {"suggestion", "methods", "explosionLr", "lrs", "losses"} as JSON')
    .action(async (job: string, options: LrFindCommandOptions) => {
      process.exitCode = await lrFindCommand(job, options);
    });

  program
    .command('compare')
    .description('run one job under several strategies (same seed and data) and print a table')
    .argument('<job>', 'a *.gradscope.json job file')
    .option('--strategies <list|file>', 'comma-separated names (constant, adam, step, cosine, warmup-cosine, one-cycle, plateau, backoff, clip, lbfgs) or a JSON file of strategies; default: all')
    .option('--parallel <n>', 'strategies trained at once (default 1)')
    .option('--target <loss>', 'loss for the steps-to-target column (default: twice the best final loss)')
    .option('--sort <column>', 'column to sort by (default finalValidationLoss)')
    .option('--format <format>', 'table (Markdown), csv or json (default table)')
    .option('--max-steps <n>', 'cap every strategy at this many updates')
    .option('--backend <name>', 'auto, tensorflow, wasm or cpu')
    .option('--runs-dir <dir>', 'where the run logs go')
    .option('--json', 'same as --format json')
    .action(async (job: string, options: CompareOptions) => {
      process.exitCode = await compareCommand(job, options);
    });

  program
    .command('inspect')
    .description('run the detectors over training logs: Hugging Face, Keras, Lightning, llm.c, nanoGPT, detectron2, MMEngine, TensorBoard, JSON lines, CSV')
    .argument('<file|dir>', 'a log file, a run folder, or a folder to search for logs')
    .option('--format <name>', `read as this format instead of detecting it (${FORMAT_NAMES.join(', ')})`)
    .option('--map <pairs>', 'name your columns: field=column pairs (fields step, lr, loss, validationLoss, gradNorm), e.g. gradNorm=total_norm,loss=train_loss')
    .option('--json', 'NDJSON on stdout: one {"type":"event",…} per event and one {"type":"summary",…} per run')
    .option('--follow', 'keep reading the log(s) as they grow and print events as they happen (Ctrl-C ends)')
    .action(async (target: string, options: InspectOptions) => {
      process.exitCode = await inspectCommand(target, options);
    });

  program
    .command('report')
    .description('write one self-contained HTML file (no network) with the charts, flags and events of a log')
    .argument('<run|file|dir>', 'any log `gradscope inspect` reads: a file, a run folder or a folder of runs')
    .option('-o, --output <file>', 'where to write the report (default report.html)')
    .option('--format <name>', `read as this format instead of detecting it (${FORMAT_NAMES.join(', ')})`)
    .option('--map <pairs>', 'name your columns: field=column pairs, as for inspect')
    .action(async (target: string, options: ReportOptions) => {
      process.exitCode = await reportCommand(target, options);
    });

  program
    .command('control')
    .description('steer a running PyTorch loop monitored by the gradscope Python package (writes its control.json)')
    .argument('<run_dir>', 'the run folder the loop writes')
    .argument('<action...>', 'stop, pause, resume, lr=<multiplier>, clip=<max norm> or clip=none')
    .action((runDir: string, actions: string[]) => {
      process.stdout.write(`control.json: ${JSON.stringify(controlCommand(runDir, actions))}\n`);
    });

  return program;
}

async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    process.exitCode = exitCodeFor(error);
  }
}

function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) {
    // Commander has already printed its message (or the help / version text).
    return error.exitCode === 0 ? 0 : EXIT_BAD_INPUT;
  }
  if (error instanceof UsageError || error instanceof SpecError) {
    process.stderr.write(`gradscope: ${error.message}\n`);
    return EXIT_BAD_INPUT;
  }
  // A bug, not the input: its own exit code, as 1 means warnings found or a run that failed.
  process.stderr.write(`gradscope: internal error (please report it): ${error instanceof Error ? error.message : String(error)}\n`);
  return EXIT_INTERNAL;
}

void main(process.argv);
