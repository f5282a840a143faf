/* audit.c — see audit.h. */
#include "audit.h"
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include "core/embed.h"
#include "core/json_write.h"

const char *audit_id(op_ctx *x, int64_t id) { return arena_printf(x->a, "%lld", (long long)id); }

os_err audit(op_ctx *x, const char *action, const char *target_type, const char *target_id, int64_t agreement_id,
             const char *details_json) {
    audit_rec r = {
        .at = x->now,
        .actor_user_id = x->actor_id,
        .actor_email = x->actor_email,
        .action = action,
        .target_type = target_type,
        .target_id = target_id,
        .agreement_id = agreement_id,
        .relationship_id = agreement_id ? x->relationship_id : 0,
        .token_id = x->token_id,
        .address = x->address,
        .request_id = x->request_id,
        .details_json = details_json,
    };
    return st_audit_add(x->c, &r);
}

os_err audit_many(op_ctx *x, const char *action, const char *target_type, const char *const *target_ids,
                  int64_t agreement_id, const char *const *details_json, int n) {
    if (n <= 0) return OS_OK;
    audit_rec *r = arena_alloc(x->a, sizeof *r * (size_t)n);
    for (int i = 0; i < n; i++)
        r[i] = (audit_rec){
            .at = x->now,
            .actor_user_id = x->actor_id,
            .actor_email = x->actor_email,
            .action = action,
            .target_type = target_type,
            .target_id = target_ids[i],
            .agreement_id = agreement_id,
            .relationship_id = agreement_id ? x->relationship_id : 0,
            .token_id = x->token_id,
            .address = x->address,
            .request_id = x->request_id,
            .details_json = details_json ? details_json[i] : NULL,
        };
    return st_audit_add_many(x->c, r, n);
}

const char *json_pairs(arena *a, ...) {
    buf b;
    buf_init(&b, a, 64 * 1024);
    jw w;
    jw_init(&w, &b);
    jw_obj(&w);
    va_list ap;
    va_start(ap, a);
    for (;;) {
        const char *k = va_arg(ap, const char *);
        if (!k) break;
        jw_kstr(&w, k, va_arg(ap, const char *));
    }
    va_end(ap);
    jw_obj_end(&w);
    return jw_ok(&w) ? b.data : "{}";
}

const char *audit_target_label(arena *a, const activity_rec *ev) {
    const char *name = ev->target_name && *ev->target_name ? ev->target_name : NULL;
    const char *note = ev->target_note && *ev->target_note ? ev->target_note : NULL;
    if (name && note && strcmp(name, note)) return arena_printf(a, "%s (%s)", name, note);
    return name ? name : note;
}

/* The UI's catalogues, loaded once and kept: the labels handed out point into them. */
static json_t *catalogue_en, *catalogue_fr;
static pthread_once_t catalogues_once = PTHREAD_ONCE_INIT;

static json_t *load_catalogue(const char *name) {
    const embed_file *f = embed_find(name);
    return f ? json_loadb((const char *)f->data, f->len, 0, NULL) : NULL;
}

static void load_catalogues(void) {
    catalogue_en = load_catalogue("web/i18n/en.json");
    catalogue_fr = load_catalogue("web/i18n/fr.json");
}

const char *audit_action_label(const char *lang, const char *action) {
    if (!action) return NULL;
    pthread_once(&catalogues_once, load_catalogues);
    char key[160];
    if (snprintf(key, sizeof key, "activity.label.%s", action) >= (int)sizeof key) return action;
    const char *label = NULL;
    if (lang && !strcmp(lang, "fr")) label = json_string_value(json_object_get(catalogue_fr, key));
    if (!label) label = json_string_value(json_object_get(catalogue_en, key));
    return label ? label : action;
}
