/* cli.h — the subcommands. Each sets up what it needs through cli_open() and calls
 * into the domain; none holds business rules of its own. */
#ifndef OPENSEAT_CLI_H
#define OPENSEAT_CLI_H
#include <stddef.h>
#include "app.h"
#include "core/config.h"
#include "domain/ctx.h"

/* Config, crypto, store, migrations and keys; positional arguments land in rest.
 * a->base_url: --base-url when given, else the one serve last recorded in the database,
 * else http://localhost:PORT. Returns 0, or the exit code after printing why. Close with
 * store_close(a->st). */
int cli_open(app *a, config *cfg, int argc, char **argv, char **rest, size_t rest_max);
/* For serve: a->base_url from this process's own configuration (flag or localhost:PORT,
 * never the recorded one), recorded in the database for the other commands. */
os_err cli_publish_base_url(app *a);
/* A domain context for operator commands (actor: the operator, address "cli"). */
void cli_ctx(app *a, arena *ar, op_ctx *x);

int cmd_serve(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_backup(int argc, char **argv);
int cmd_copy(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_outbox(int argc, char **argv);
int cmd_partner(int argc, char **argv);
int cmd_program(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_lifecycle(int argc, char **argv);

#endif
