/** Exit codes of `sensei-run`. */

/** Stopped cleanly, or `--check` passed. */
export const EXIT_OK = 0;
/** Pipelines that do not compile, a failed start, or a shutdown past its deadline. */
export const EXIT_FAILURE = 1;
/** Usage and configuration errors. */
export const EXIT_USAGE = 2;
