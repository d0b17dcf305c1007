/*
 * main.c - the otelc command: dispatch to a subcommand, global help and
 * version.
 *
 * Each subcommand parses its own options (getopt_long) and has its own
 * --help; main only picks the subcommand so that options after it belong to
 * it, and `otelc help CMD` is the same as `otelc CMD --help`.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

typedef struct subcommand {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} subcommand;

static const subcommand subcommands[] = {
    {"exec", cli_exec, "run a command as a span, passing its context to the command"},
    {"span", cli_span, "start, annotate and end spans from shell scripts"},
    {"run", cli_run, "run a pipeline file (YAML or JSON) as a traced DAG of steps"},
    {"junit", cli_junit, "turn JUnit XML test reports into spans"},
    {"bench", cli_bench, "measure the SDK's overhead on this machine"},
    {"serve", cli_serve, "run the demo HTTP service (traced HTTP, SQL and child commands)"},
    {"view", cli_viewer, "run a local trace backend: OTLP receiver, store, web UI, query API"},
    {"traces", cli_viewer, "query a trace store from scripts and test pipelines"},
};

#define SUBCOMMAND_COUNT (sizeof subcommands / sizeof *subcommands)

static void usage(FILE *out)
{
    fputs("usage: otelc <command> [options] [arguments]\n"
          "       otelc --help | --version | help <command>\n"
          "\n"
          "Trace shell commands, build pipelines and test reports with OpenTelemetry.\n"
          "\n"
          "commands:\n",
          out);
    for (size_t i = 0; i < SUBCOMMAND_COUNT; i++)
        fprintf(out, "  %-7s %s\n", subcommands[i].name, subcommands[i].summary);
    fputs("\n"
          "Spans go where the OTEL_* environment says (OTEL_TRACES_EXPORTER,\n"
          "OTEL_EXPORTER_OTLP_ENDPOINT, ...); with nothing configured otelc exports\n"
          "nothing and prints nothing of its own.\n"
          "\n"
          "examples:\n"
          "  otelc exec --name compile -- make -j8\n"
          "  TRACEPARENT=$(otelc span start --name deploy)\n"
          "  otelc junit build/test-results/*.xml\n"
          "  otelc view    # then open http://127.0.0.1:16686\n"
          "\n"
          "Run 'otelc <command> --help' for a command's options; see otelc(1).\n",
          out);
}

static const subcommand *find(const char *name)
{
    for (size_t i = 0; i < SUBCOMMAND_COUNT; i++) {
        if (strcmp(subcommands[i].name, name) == 0) return &subcommands[i];
    }
    return NULL;
}

/* `otelc help [CMD]`: the subcommand's own --help. */
static int help(int argc, char **argv)
{
    if (argc < 2) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    const subcommand *sc = find(argv[1]);
    if (!sc) {
        cli_error("unknown command \"%s\"; run 'otelc --help' for the list", argv[1]);
        return CLI_EXIT_USAGE;
    }
    char *args[] = {argv[1], "--help", NULL};
    return sc->run(2, args);
}

int main(int argc, char **argv)
{
    cli_set_command_line(argc, argv);
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        printf("otelc %s\n", OTELC_VERSION);
        return CLI_EXIT_OK;
    }
    if (strcmp(cmd, "help") == 0) return help(argc - 1, argv + 1);
    if (cmd[0] == '-') {
        cli_error("unknown option \"%s\"; run 'otelc --help'", cmd);
        return CLI_EXIT_USAGE;
    }
    const subcommand *sc = find(cmd);
    if (!sc) {
        cli_error("unknown command \"%s\"; run 'otelc --help' for the list", cmd);
        return CLI_EXIT_USAGE;
    }
    return sc->run(argc - 1, argv + 1);
}
