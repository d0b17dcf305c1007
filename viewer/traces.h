/*
 * traces.h - `otelc traces`, the test pipelines' view of a store; the
 * otelc-view program runs it for `otelc-view traces ARGS`.
 */
#ifndef OTELC_VIEWER_TRACES_H
#define OTELC_VIEWER_TRACES_H

/* Run `otelc traces` with argv[0] "traces"; returns the process exit status. */
int vw_traces_main(int argc, char **argv);

#endif
