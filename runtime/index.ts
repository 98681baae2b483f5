/**
 * The runtime's public surface: run a plan on worker threads, or test it in
 * process. Callers (the CLI, embedding applications) import from here.
 */
export { runPipeline, startPipeline } from './coordinator/coordinator.ts';
export type { MoveReport, PipelineEvent, PipelineRun, PipelineStatus, PipelineSummary, RunHooks, RunOptions } from './coordinator/run.ts';
export { DEFAULT_AUTOSCALER } from './cluster/autoscaler.ts';
export { ConnectionBudget } from './coordinator/connections.ts';
export type { ConnectionReport } from './coordinator/connections.ts';
export type { AutoscalerConfig, ScaleDecision } from './cluster/autoscaler.ts';
export { formatTestResult, parseTestFile, runTests, TestFileError } from './testing/testing.ts';
export type { CaseResult, PipelineTestFile, RunTestsOptions, TestCase, TestFileResult } from './testing/testing.ts';
