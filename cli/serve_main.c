/*
 * serve_main.c - the otelc-serve program: `otelc serve` execs it (see
 * launch.c), so that only the service loads the libraries it needs.
 * Its arguments are those of `otelc serve`.
 */
#include "cli.h"

int main(int argc, char **argv)
{
    cli_set_command_line(argc, argv);
    return cli_serve(argc, argv);
}
