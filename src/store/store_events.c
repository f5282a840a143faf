/* store_events.c — an agreement's integration events. Contract in store.h (integration events). */
#include "store.h"
#include "store_util.h"

os_err st_event_add(store_conn *c, const event_rec *r, int64_t *id) {
    return db_scalar_int(c,
                         "INSERT INTO events (agreement_id, type, at, actor_user_id, relationship_id, data)"
                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
                         DB_ARGS(DV_INT(r->agreement_id), DV_TEXT(r->type), DV_INT(r->at),
                                 r->actor_user_id ? DV_INT(r->actor_user_id) : DV_NULL,
                                 r->relationship_id ? DV_INT(r->relationship_id) : DV_NULL, DV_TEXT(r->data_json)),
                         id);
}
