/* audit.h — the append-only record of who did what. Every state change writes here,
 * inside the same transaction as the change itself, so the trail cannot disagree
 * with the data. `details` is a JSON object built by the caller (or NULL). */
#ifndef OPENSEAT_AUDIT_H
#define OPENSEAT_AUDIT_H
#include "domain/ctx.h"

os_err audit(op_ctx *x, const char *action, const char *target_type, const char *target_id, int64_t agreement_id,
             const char *details_json);
/* audit() for n targets of one action at once (a bulk change): target_ids[i] with
 * details_json[i] (details_json NULL: none for any). */
os_err audit_many(op_ctx *x, const char *action, const char *target_type, const char *const *target_ids,
                  int64_t agreement_id, const char *const *details_json, int n);

/* An activity event's target as a reader names it: the resolved name with its second part in
 * brackets ("Ada Lovelace (Professional)", "Camille Martin (camille@contoso.example)"), either
 * alone when the other is unknown, an e-mail target as itself; NULL when nothing names it
 * (the reader then has the target type and identifier). Arena-owned. */
const char *audit_target_label(arena *a, const activity_rec *ev);

/* The action's label in lang ("fr", else English): the web UI's catalogue entry
 * activity.label.<action> (the catalogues are embedded, so both say the same); the action
 * itself when the catalogue has none. Lives as long as the process. */
const char *audit_action_label(const char *lang, const char *action);

/* A place in the trail read as a stream (audit_pos, store.h) as the text handed to readers:
 * AUDIT_CURSOR_LEN lowercase hex digits. Readers treat it as opaque; it names no agreement,
 * so one is only ever a place (what a stream gives after it is the reader's own). */
#define AUDIT_CURSOR_LEN 32
void audit_cursor_format(audit_pos p, char out[AUDIT_CURSOR_LEN + 1]);
/* false: s is not a cursor audit_cursor_format wrote. */
bool audit_cursor_parse(const char *s, audit_pos *out);

/* A numeric id as an audit target's text; arena-owned. */
const char *audit_id(op_ctx *x, int64_t id);

/* Small JSON object from key/value string pairs, NULL-terminated; arena-owned. */
const char *json_pairs(arena *a, ...) __attribute__((sentinel));

#endif
