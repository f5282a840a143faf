/* main.c — subcommand dispatch only. */
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"
#include "core/config.h"

#define VERSION "0.1.0"

static void usage(FILE *out) {
    fprintf(out,
            "openseat " VERSION " — subscription administration portal\n\n"
            "usage: openseat COMMAND [options]\n\n"
            "commands:\n"
            "  serve                 run the web server and the mail worker\n"
            "  migrate               apply pending database migrations and exit\n"
            "  backup FILE           write an online, consistent copy of the database to FILE\n"
            "                        (PostgreSQL: a pg_dump custom-format file, for pg_restore)\n"
            "  copy --from URL --to URL\n"
            "                        copy every row of one database (sqlite:FILE or postgres://…)\n"
            "                        into a new, empty PostgreSQL database, all or nothing\n"
            "  demo                  create demo accounts (idempotent) and print the sign-ins\n"
            "  outbox [list]         show queued and recent e-mails with attempts and last error\n"
            "  outbox retry ID|--all make one or every undelivered e-mail due now\n"
            "  partner add --org NAME --email EMAIL [--country CC] [--admin]\n"
            "                        add a partner user (creates the organization if new)\n"
            "  program set --name NAME --reassign-days N\n"
            "                        days (0-3650; 0: none) a freed seat of the program's agreements\n"
            "                        waits before going to a different person (creates the program)\n"
            "  import agreements FILE.csv\n"
            "                        load agreements from an upstream system, all or nothing;\n"
            "                        columns: license_number, authorization_number, customer_name,\n"
            "                        customer_country, customer_email, partner_name, start_date,\n"
            "                        end_date, lines (level:qty;level:qty)\n"
            "  lifecycle [--today YYYY-MM-DD]\n"
            "                        queue the agreement expiry reminders due (serve does this\n"
            "                        every minute; --today simulates another day)\n"
            "  version               print the version\n\n");
    config_usage(out);
}

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *cmd = argv[1];
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], "--help")) { usage(stdout); return 0; }
    if (!strcmp(cmd, "serve")) return cmd_serve(argc, argv);
    if (!strcmp(cmd, "migrate")) return cmd_migrate(argc, argv);
    if (!strcmp(cmd, "backup")) return cmd_backup(argc, argv);
    if (!strcmp(cmd, "copy")) return cmd_copy(argc, argv);
    if (!strcmp(cmd, "demo")) return cmd_demo(argc, argv);
    if (!strcmp(cmd, "outbox")) return cmd_outbox(argc, argv);
    if (!strcmp(cmd, "partner")) return cmd_partner(argc, argv);
    if (!strcmp(cmd, "program")) return cmd_program(argc, argv);
    if (!strcmp(cmd, "import")) return cmd_import(argc, argv);
    if (!strcmp(cmd, "lifecycle")) return cmd_lifecycle(argc, argv);
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) { printf("openseat %s\n", VERSION); return 0; }
    fprintf(stderr, "openseat: unknown command \"%s\" (see openseat --help)\n", cmd);
    return 2;
}
