/**
 * The runs of one fault scenario: real `sensei run` processes (and an
 * in-process run for a worker crash), supervised as `sensei-run` or
 * Kubernetes would: a run that fails (exits non-zero) is restarted under the
 * same instance id, and the failure stays on record. How each run ended is
 * kept, to check that it said so: a run the scenario did not kill must end
 * with exit 0 and its summary, or exit non-zero saying why.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startPipeline, type PipelineRun } from '../../runtime/index.ts';
import { builtinEnvironment } from '../../connectors/registry.ts';
import { summaryText } from '../../src/tooling/cli/run.ts';
import { compilePlan } from '../support/compile.ts';
import { startSensei } from '../kafka/processes.ts';

export interface RunRecord {
  name: string;
  /** Exit code; null when a signal ended it. */
  exit: number | null;
  /** The scenario killed it (SIGKILL): its end says nothing. */
  killed: boolean;
  /** It read a bounded source to the end offsets of its start: reading nothing is fine when nothing was left. */
  bounded: boolean;
  /** From its summary line (`… N records in …`). */
  recordsIn: number | undefined;
  /** Its last lines on stderr. */
  said: string;
}

/** A run and the restarts of it after failures. */
export interface LiveRun {
  readonly name: string;
  /** Settles when the run has ended (by itself, stopped or killed), not when it failed and was restarted. */
  readonly ended: Promise<void>;
  /** SIGKILL (a process only). */
  kill(): Promise<void>;
  /** SIGTERM, or `stop()` in process: drain, commit, end with exit 0. */
  stop(): Promise<void>;
  /** What it has said so far (its last lines on stderr). */
  said(): string;
}

/** One attempt of a run: a process, or the pipeline in this process. */
interface Attempt {
  ended: Promise<Omit<RunRecord, 'name' | 'killed' | 'bounded'>>;
  kill(): void;
  stop(): void;
  said(): string;
}

/** Failures of one run restarted before the scenario gives up. */
const RESTARTS = 3;
const SUMMARY = /: done in [^:]+: (\d+) records in/;

export class Runs {
  readonly records: RunRecord[] = [];
  private readonly live = new Set<LiveRun>();
  /** Rejects when a run fails for good, or fails to stop when asked; every wait of the scenario races it. */
  readonly failure: Promise<never>;
  private fail!: (e: Error) => void;

  /** `text(bounded)` is the pipeline; its files go to `dir`. */
  constructor(private readonly dir: string, private readonly text: (bounded: boolean) => string) {
    this.failure = new Promise<never>((_, reject) => (this.fail = reject));
    this.failure.catch(() => {});
  }

  /** A `sensei run` process with 2 workers; `instance` is its SENSEI_INSTANCE_ID (a restarted process keeps its own). */
  spawn(name: string, instance: string, bounded = false): LiveRun {
    const file = join(this.dir, bounded ? 'bounded.sensei' : 'pipeline.sensei');
    writeFileSync(file, this.text(bounded));
    return this.supervise(name, bounded, () => {
      const proc = startSensei(file, ['--workers', '2'], { SENSEI_INSTANCE_ID: instance });
      return {
        ended: proc.exited.then((exit) => ({ exit, recordsIn: recordsIn(proc.stderr()), said: tail(proc.stderr()) })),
        kill: () => proc.child.kill('SIGKILL'),
        stop: () => proc.child.kill('SIGTERM'),
        said: () => tail(proc.stderr()),
      };
    });
  }

  /** The pipeline in this process on 2 workers, for faults only the runtime can inject (`killWorker`); `current()` is its live attempt. */
  inProcess(name: string): { live: LiveRun; current(): PipelineRun } {
    let run: PipelineRun;
    const live = this.supervise(name, false, () => {
      run = startPipeline(compilePlan(this.text(false)), { env: builtinEnvironment(), workers: 2 });
      return {
        ended: run.done.then(
          (summary) => ({ exit: 0, recordsIn: summary.recordsIn, said: tail(summaryText(summary)) }),
          (e: Error) => ({ exit: 1, recordsIn: undefined, said: `error: pipeline failed: ${e.message}` }),
        ),
        kill: () => {
          throw new Error('an in-process run cannot be killed');
        },
        stop: () => run.stop(),
        said: () => '',
      };
    });
    return { live, current: () => run };
  }

  /** Stops every run still going, gracefully. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.live].map((r) => r.stop()));
  }

  /** Waits for every run still going to end by itself. */
  async completion(): Promise<void> {
    await Promise.all([...this.live].map((r) => r.ended));
  }

  /** The runs still going, with what each has said so far. */
  liveSaid(): string[] {
    return [...this.live].map((r) => `${r.name} (still running): ${r.said()}`);
  }

  /** Cleanup after a failed scenario: whatever still runs is killed (or stopped, in process). */
  async abandon(): Promise<void> {
    await Promise.all([...this.live].map((r) => r.kill().catch(() => r.stop())));
  }

  private supervise(name: string, bounded: boolean, start: () => Attempt): LiveRun {
    let attempt = start();
    let asked: 'kill' | 'stop' | undefined;
    const ended = (async () => {
      for (let restarts = 0; ; restarts++) {
        const end = await attempt.ended;
        const killed = asked === 'kill';
        this.records.push({ name: restarts === 0 ? name : `${name}, restart ${restarts} after a failure`, killed, bounded, ...end });
        if (killed || end.exit === 0) return;
        if (asked === 'stop') return this.fail(new Error(`${name} did not stop cleanly: exit ${end.exit}: ${end.said || 'without a word'}`));
        if (restarts === RESTARTS) return this.fail(new Error(`${name} failed ${RESTARTS + 1} times; the last: exit ${end.exit}: ${end.said || 'without a word'}`));
        attempt = start();
      }
    })().finally(() => this.live.delete(run));
    const run: LiveRun = {
      name,
      ended,
      kill: async () => {
        asked = 'kill';
        attempt.kill();
        await ended;
      },
      stop: async () => {
        asked = 'stop';
        attempt.stop();
        await ended;
      },
      said: () => attempt.said(),
    };
    this.live.add(run);
    return run;
  }
}

/**
 * What is wrong with how the runs ended: a run not killed must exit 0 with
 * its summary, or exit non-zero saying why (`error: …`); only a bounded run
 * may read nothing (everything was read before it).
 */
export function runProblems(records: RunRecord[]): string[] {
  return records.flatMap((r) => {
    if (r.killed) return [];
    if (r.exit !== 0) return /^error: /m.test(r.said) ? [] : [`${r.name} exited ${r.exit} without saying why: ${r.said}`];
    if (r.recordsIn === undefined) return [`${r.name} exited 0 without its summary: ${r.said}`];
    if (r.recordsIn === 0 && !r.bounded) return [`${r.name} read nothing and exited 0: ${r.said}`];
    return [];
  });
}

/** Runs that failed (exit non-zero, not killed by the scenario) and were restarted, with what they said. */
export function failedRuns(records: RunRecord[]): RunRecord[] {
  return records.filter((r) => !r.killed && r.exit !== 0);
}

function recordsIn(stderr: string): number | undefined {
  const m = SUMMARY.exec(stderr);
  return m ? Number(m[1]) : undefined;
}

function tail(text: string): string {
  return text.trim().split('\n').slice(-6).join('\n');
}
