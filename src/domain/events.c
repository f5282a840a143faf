/* events.c — see events.h. */
#include "events.h"
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "core/json_write.h"
#include "domain/webhooks.h"

static const event_type TYPES[] = {
    {"subscription.added", CAP_READ},
    {"subscription.updated", CAP_READ},
    {"subscription.removed", CAP_READ},
    {"bulk.applied", CAP_READ},
    {"job.finished", CAP_BULK},
    {"partner.access_requested", EVENT_OWN_RELATIONSHIP},
    {"partner.access_granted", EVENT_OWN_RELATIONSHIP},
    {"partner.access_amended", EVENT_OWN_RELATIONSHIP},
    {"partner.access_removed", EVENT_OWN_RELATIONSHIP},
    {"partner.access_ended", EVENT_OWN_RELATIONSHIP},
    {"admin.added", EVENT_CUSTOMER_ONLY},
    {"admin.removed", EVENT_CUSTOMER_ONLY},
    {"agreement.expiring", EVENT_ANY_PARTNER},
    {"agreement.expired", EVENT_ANY_PARTNER},
};

const event_type *event_types(int *n) {
    *n = (int)(sizeof TYPES / sizeof TYPES[0]);
    return TYPES;
}

const event_type *event_type_find(const char *name) {
    for (size_t i = 0; name && i < sizeof TYPES / sizeof TYPES[0]; i++)
        if (!strcmp(TYPES[i].name, name)) return &TYPES[i];
    return NULL;
}

os_err event_emit(op_ctx *x, int64_t agreement_id, const char *type, const char *data_json) {
    return event_emit_relationship(x, agreement_id, type, 0, data_json);
}

os_err event_emit_relationship(op_ctx *x, int64_t agreement_id, const char *type, int64_t relationship_id,
                               const char *data_json) {
    const event_type *t = event_type_find(type);
    if (!t || agreement_id <= 0 || !data_json) return OS_ERR_INTERNAL;
    /* An event for its relationship's organization names the relationship, or nobody gets it. */
    if ((t->partner_capability == EVENT_OWN_RELATIONSHIP) != (relationship_id > 0)) return OS_ERR_INTERNAL;
    event_rec r = {
        .agreement_id = agreement_id,
        .type = type,
        .at = x->now,
        .actor_user_id = x->actor_id,
        .relationship_id = relationship_id,
        .data_json = data_json,
    };
    int64_t id = 0;
    os_err e = st_event_add(x->c, &r, &id);
    /* Its webhook deliveries commit (or not) with it. */
    return e ? e : webhooks_fanout(x, id, agreement_id, type, relationship_id);
}

const char *event_data(arena *a, const char *license, ...) {
    buf b;
    jw w;
    buf_init(&b, a, EVENT_DATA_MAX);
    jw_init(&w, &b);
    jw_obj(&w);
    jw_kstr(&w, "agreement", license);
    va_list ap;
    va_start(ap, license);
    for (const char *k; (k = va_arg(ap, const char *));) {
        const char *v = va_arg(ap, const char *);
        jw_key(&w, k);
        if (v) jw_raw(&w, v);
        else jw_null(&w);
    }
    va_end(ap);
    jw_obj_end(&w);
    return jw_ok(&w) && !b.overflow ? b.data : NULL;
}

const char *event_changes(arena *a, const char *before_json, const char *after_json, const char *skip) {
    json_t *b = before_json ? json_loads(before_json, 0, NULL) : NULL;
    json_t *t = after_json ? json_loads(after_json, 0, NULL) : NULL;
    json_t *changes = json_is_object(b) && json_is_object(t) ? json_object() : NULL;
    bool ok = changes != NULL;
    const char *key;
    json_t *v;
    json_object_foreach(t, key, v) {
        if (!ok) break;
        if (skip && !strcmp(key, skip)) continue;
        json_t *was = json_object_get(b, key);
        if (was && json_equal(was, v)) continue;
        json_t *pair = json_pack("{sOsO}", "before", was ? was : json_null(), "after", v);
        ok = pair && !json_object_set_new(changes, key, pair);
    }
    char *text = ok && json_object_size(changes) ? json_dumps(changes, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    const char *out = text ? arena_strdup(a, text) : NULL;
    free(text);
    json_decref(changes);
    json_decref(b);
    json_decref(t);
    return out;
}

const char *event_str(arena *a, const char *s) {
    buf b;
    jw w;
    buf_init(&b, a, EVENT_DATA_MAX);
    jw_init(&w, &b);
    jw_str(&w, s);
    return jw_ok(&w) && !b.overflow ? b.data : NULL;
}
