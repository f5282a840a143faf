/* syslog_out.c — see syslog_out.h. */
#include "syslog_out.h"
#include <syslog.h>

void syslog_out_open(const char *ident) { openlog(ident, LOG_NDELAY | LOG_PID, LOG_AUTHPRIV); }

void syslog_out_line(const char *line) { syslog(LOG_NOTICE, "%s", line); }

void syslog_out_close(void) { closelog(); }
