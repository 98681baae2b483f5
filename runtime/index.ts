/**
 * The runtime's public surface: run a plan on worker threads, or test it in
 * process. Callers (the CLI, embedding applications) import from here.
 */
export { runPipeline, startPipeline } from './pipeline.ts';
export type { MoveReport, PipelineEvent, PipelineRun, PipelineStatus, PipelineSummary, RunHooks, RunOptions } from './pipeline.ts';
export { DEFAULT_AUTOSCALER } from './autoscaler.ts';
export type { AutoscalerConfig, ScaleDecision } from './autoscaler.ts';
export { formatTestResult, parseTestFile, runTests, TestFileError } from './testing.ts';
export type { CaseResult, PipelineTestFile, RunTestsOptions, TestCase, TestFileResult } from './testing.ts';
