/* syslog_out.h — lines to syslog(3), kept apart because <syslog.h> defines LOG_INFO and its
 * kin, which core/log.h names too. Facility authpriv: the lines carry e-mail and client
 * addresses, which syslog daemons keep in their restricted file (auth.log, secure). */
#ifndef OPENSEAT_SYSLOG_OUT_H
#define OPENSEAT_SYSLOG_OUT_H

void syslog_out_open(const char *ident);
/* One message at priority notice; its text as given (no format directives read). */
void syslog_out_line(const char *line);
void syslog_out_close(void);

#endif
