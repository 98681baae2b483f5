/**
 * Which Kafka partitions this process owns, per pipeline and source, from
 * the consumer-group rebalances the Kafka sources report (`assignment`
 * events of the run). It drives the
 * `assignment` log event, the `group` rebalance metrics, the partition map
 * of `/status`, and readiness: a pipeline with Kafka sources is not ready
 * until each of them has its (possibly empty) assignment.
 */
import type { Plan } from '../../plan/plan.ts';
import type { PipelineEvent } from '../../../runtime/index.ts';
import type { Logger } from './log.ts';
import type { DaemonMetrics } from './metrics.ts';

interface Tracked {
  /** Kafka source name → topic. */
  topics: Map<string, string>;
  /** Kafka source name → owned partitions, once the group assigned them. */
  owned: Map<string, number[]>;
}

export class Assignments {
  private readonly pipelines = new Map<string, Tracked>();

  constructor(
    private readonly log: Logger,
    private readonly metrics: DaemonMetrics,
  ) {}

  /** A run of `plan` starts: its Kafka sources have no assignment yet. */
  begin(plan: Plan): void {
    const topics = new Map(plan.sources.filter((s) => s.connector === 'kafka').map((s) => [s.name, String(s.options.topic)]));
    this.pipelines.set(plan.pipeline, { topics, owned: new Map() });
  }

  end(pipeline: string): void {
    const t = this.pipelines.get(pipeline);
    if (!t) return;
    for (const source of t.topics.keys()) this.metrics.assignedPartitions.remove({ pipeline, source });
    this.pipelines.delete(pipeline);
  }

  /** Partitions owned per Kafka source; undefined for a pipeline without Kafka sources. */
  owned(pipeline: string): Record<string, number[] | null> | undefined {
    const t = this.pipelines.get(pipeline);
    if (!t || t.topics.size === 0) return undefined;
    return Object.fromEntries([...t.topics.keys()].map((s) => [s, t.owned.get(s) ?? null]));
  }

  /** Kafka sources of the pipeline still waiting for their first assignment. */
  waiting(pipeline: string): string[] {
    const t = this.pipelines.get(pipeline);
    return t ? [...t.topics.keys()].filter((s) => !t.owned.has(s)) : [];
  }

  /** A run's source reported a change of its partitions. */
  assigned(pipeline: string, r: Extract<PipelineEvent, { type: 'assignment' }>): void {
    const t = this.pipelines.get(pipeline);
    const topic = t?.topics.get(r.source);
    if (!t || topic === undefined) return;
    const owned = [...r.kept, ...r.gained].sort((a, b) => a - b);
    const first = !t.owned.has(r.source);
    t.owned.set(r.source, owned);
    this.metrics.assignedPartitions.set({ pipeline, source: r.source }, owned.length);
    if (!first) {
      this.metrics.rebalances.inc({ pipeline, kind: 'group' });
      this.metrics.partitionPause.observe({ pipeline, kind: 'group' }, r.pauseMs / 1000);
    }
    this.log.info(
      { event: 'assignment', pipeline, source: r.source, topic, partitions: owned, gained: r.gained, lost: r.lost, kept: r.kept, pauseMs: Math.round(r.pauseMs) },
      `consumer group assigned ${topic} partitions [${owned.join(', ')}] to this process`,
    );
  }
}
