/* log.h — structured logs: one JSON object per line on stderr.
 *
 * log_event() takes alternating key/value string pairs terminated by NULL, so every
 * line is machine-readable (ts, level, msg, then the pairs). Values are escaped by
 * the JSON writer. Thread-safe: a line is written with one write(2).
 */
#ifndef OPENSEAT_LOG_H
#define OPENSEAT_LOG_H

typedef enum { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR } log_level;

void log_set_level(log_level l);
int  log_level_parse(const char *s, log_level *out);   /* 0 on success */
void log_event(log_level l, const char *msg, ...) __attribute__((sentinel));  /* key, value, ..., NULL */

#endif
