/* scim.c — the SCIM 2.0 endpoints of an agreement (RFC 7644), at
 * /api/v1/agreements/{license}/scim/v2, the one base URL an Entra ID or Okta admin pastes,
 * with a token named to the agreement holding `provisioning` (domain/access.h); and the
 * super admins' group → seat rules. Bodies and answers are application/scim+json; refusals
 * are SCIM errors (http/problem.c). The rules are domain/scim.h's. */
#include <string.h>
#include "api.h"
#include "core/countries.h"
#include "domain/scim.h"
#include "domain/subscribers.h"

static const char *base_url(req *r) {
    return arena_printf(&r->a, "%s/api/v1/agreements/%s/scim/v2", r->app->base_url, r->agreement_license);
}

/* Sends a SCIM resource (taking the reference). */
static os_err reply_scim(req *r, int status, json_t *v) {
    char *text = json_dumps(v, JSON_COMPACT);
    json_decref(v);
    if (!text) return OS_ERR_INTERNAL;
    char *copy = arena_strdup(&r->a, text);
    free(text);   /* checksrc: allow alloc — json_dumps hands over memory it malloc'd */
    if (status == 201) {
        /* Location: the new resource's meta.location. */
        json_t *back = json_loads(copy, 0, NULL);
        const char *loc = json_string_value(json_object_get(json_object_get(back, "meta"), "location"));
        if (loc) reply_header(r, "Location", arena_strdup(&r->a, loc));
        json_decref(back);
    }
    reply_bytes(r, status, "application/scim+json", copy, strlen(copy));
    return OS_OK;
}

static os_err scim_fail(req *r, os_err e, const scim_fault *f) {
    if (f->scim_type) r->scim_type = f->scim_type;
    if (f->detail) r->problem_detail = f->detail;
    return e;
}

static const char *static_json(req *r, const char *text) { return arena_strdup(&r->a, text); }

os_err h_scim_config(req *r) {
    const char *t = static_json(
        r, "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig\"],"
           "\"documentationUri\":\"https://github.com/openseat/openseat/blob/main/docs/scim.md\","
           "\"patch\":{\"supported\":true},\"bulk\":{\"supported\":false,\"maxOperations\":0,\"maxPayloadSize\":0},"
           "\"filter\":{\"supported\":true,\"maxResults\":500},\"changePassword\":{\"supported\":false},"
           "\"sort\":{\"supported\":false},\"etag\":{\"supported\":false},"
           "\"authenticationSchemes\":[{\"type\":\"oauthbearertoken\",\"name\":\"OAuth Bearer Token\","
           "\"description\":\"An openseat API token named to the agreement, with the provisioning capability\","
           "\"primary\":true}]}");
    reply_bytes(r, 200, "application/scim+json", t, strlen(t));
    return OS_OK;
}

os_err h_scim_resource_types(req *r) {
    const char *t = static_json(
        r, "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:ListResponse\"],\"totalResults\":2,"
           "\"startIndex\":1,\"itemsPerPage\":2,\"Resources\":["
           "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:ResourceType\"],\"id\":\"User\",\"name\":\"User\","
           "\"endpoint\":\"/Users\",\"schema\":\"urn:ietf:params:scim:schemas:core:2.0:User\"},"
           "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:ResourceType\"],\"id\":\"Group\",\"name\":\"Group\","
           "\"endpoint\":\"/Groups\",\"schema\":\"urn:ietf:params:scim:schemas:core:2.0:Group\"}]}");
    reply_bytes(r, 200, "application/scim+json", t, strlen(t));
    return OS_OK;
}

#define ATTR(n, t, mv, req_, uniq) \
    "{\"name\":\"" n "\",\"type\":\"" t "\",\"multiValued\":" mv ",\"required\":" req_ \
    ",\"mutability\":\"readWrite\",\"returned\":\"default\",\"uniqueness\":\"" uniq "\",\"caseExact\":false}"

os_err h_scim_schemas(req *r) {
    const char *t = static_json(
        r, "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:ListResponse\"],\"totalResults\":2,"
           "\"startIndex\":1,\"itemsPerPage\":2,\"Resources\":["
           "{\"id\":\"urn:ietf:params:scim:schemas:core:2.0:User\",\"name\":\"User\",\"attributes\":["
           ATTR("userName", "string", "false", "true", "server") ","
           ATTR("externalId", "string", "false", "false", "none") ","
           ATTR("displayName", "string", "false", "false", "none") ","
           "{\"name\":\"name\",\"type\":\"complex\",\"multiValued\":false,\"required\":false,\"subAttributes\":["
           ATTR("givenName", "string", "false", "false", "none") ","
           ATTR("familyName", "string", "false", "false", "none") ","
           ATTR("formatted", "string", "false", "false", "none") "]},"
           "{\"name\":\"emails\",\"type\":\"complex\",\"multiValued\":true,\"required\":false,\"subAttributes\":["
           ATTR("value", "string", "false", "false", "none") ","
           ATTR("type", "string", "false", "false", "none") ","
           ATTR("primary", "boolean", "false", "false", "none") "]},"
           ATTR("active", "boolean", "false", "false", "none") "]},"
           "{\"id\":\"urn:ietf:params:scim:schemas:core:2.0:Group\",\"name\":\"Group\",\"attributes\":["
           ATTR("displayName", "string", "false", "true", "server") ","
           ATTR("externalId", "string", "false", "false", "none") ","
           "{\"name\":\"members\",\"type\":\"complex\",\"multiValued\":true,\"required\":false,\"subAttributes\":["
           ATTR("value", "string", "false", "false", "none") ","
           ATTR("display", "string", "false", "false", "none") "]}]}]}");
    reply_bytes(r, 200, "application/scim+json", t, strlen(t));
    return OS_OK;
}

/* startIndex (1-based, at least 1) and count (0 to SCIM_PAGE_MAX). */
static void paging(req *r, int64_t *start, int *count) {
    *start = query_int(r, "startIndex", -1000000000, 1000000000, 1);
    if (*start < 1) *start = 1;
    int64_t c = query_int(r, "count", -1000000000, 1000000000, SCIM_PAGE_DEFAULT);
    *count = (int)(c < 0 ? 0 : c > SCIM_PAGE_MAX ? SCIM_PAGE_MAX : c);
}

static bool members_excluded(req *r) {
    const char *ex = query_str(r, "excludedAttributes", 256);
    return ex && strcasestr(ex, "members");
}

/* Users and Groups are answered alike: `groups` says which. */

/* GET …/Users or …/Groups: a page, filtered; a group's members unless excluded. */
static os_err list(req *r, bool groups) {
    scim_fault f = {0};
    scim_filter_attr attr;
    const char *value;
    int64_t start;
    int count;
    paging(r, &start, &count);
    if (fe_any(&r->fe)) return scim_fail(r, OS_ERR_INVALID, &(scim_fault){.scim_type = "invalidValue", .detail = "startIndex and count are numbers"});
    os_err e = scim_filter_parse(&r->a, query_str(r, "filter", 512), groups, &attr, &value, &f);
    json_t *out;
    if (!e)
        e = groups ? scim_groups_list(r->x, r->agreement_id, attr, value, start, count, !members_excluded(r),
                                      base_url(r), &out)
                   : scim_users_list(r->x, r->agreement_id, attr, value, start, count, base_url(r), &out);
    return e ? scim_fail(r, e, &f) : reply_scim(r, 200, out);
}
os_err h_scim_users_list(req *r) { return list(r, false); }
os_err h_scim_groups_list(req *r) { return list(r, true); }

static os_err create(req *r, bool groups) {
    scim_fault f = {0};
    json_t *out;
    os_err e = groups ? scim_group_create(r->x, r->agreement_id, r->json, base_url(r), &f, &out)
                      : scim_user_create(r->x, r->agreement_id, r->json, base_url(r), &f, &out);
    return e ? scim_fail(r, e, &f) : reply_scim(r, 201, out);
}
os_err h_scim_user_create(req *r) { return create(r, false); }
os_err h_scim_group_create(req *r) { return create(r, true); }

static os_err get_one(req *r, bool groups) {
    json_t *out;
    os_err e = groups ? scim_group_get(r->x, r->agreement_id, req_param(r, 1), !members_excluded(r), base_url(r), &out)
                      : scim_user_get(r->x, r->agreement_id, req_param(r, 1), base_url(r), &out);
    return e ? e : reply_scim(r, 200, out);
}
os_err h_scim_user_get(req *r) { return get_one(r, false); }
os_err h_scim_group_get(req *r) { return get_one(r, true); }

/* PUT (patch false: the body replaces the resource) or PATCH (the body is a PatchOp). */
static os_err write_one(req *r, bool groups, bool patch) {
    scim_fault f = {0};
    json_t *out;
    os_err e = groups ? scim_group_write(r->x, r->agreement_id, req_param(r, 1), r->json, patch, base_url(r), &f, &out)
                      : scim_user_write(r->x, r->agreement_id, req_param(r, 1), r->json, patch, base_url(r), &f, &out);
    return e ? scim_fail(r, e, &f) : reply_scim(r, 200, out);
}
os_err h_scim_user_put(req *r) { return write_one(r, false, false); }
os_err h_scim_user_patch(req *r) { return write_one(r, false, true); }
os_err h_scim_group_put(req *r) { return write_one(r, true, false); }
os_err h_scim_group_patch(req *r) { return write_one(r, true, true); }

static os_err delete_one(req *r, bool groups) {
    scim_fault f = {0};
    os_err e = groups ? scim_group_delete(r->x, r->agreement_id, req_param(r, 1), &f)
                      : scim_user_delete(r->x, r->agreement_id, req_param(r, 1), &f);
    if (e) return scim_fail(r, e, &f);
    reply_empty(r, 204);
    return OS_OK;
}
os_err h_scim_user_delete(req *r) { return delete_one(r, false); }
os_err h_scim_group_delete(req *r) { return delete_one(r, true); }

/* ---- the super admins' group → seat rules ----
 * {"mappings":[{id, group: {id, display_name}, level, language, country, downloads}]} */

static void counts_write(jw *w, const scim_outcome *o);

/* did: what applying the rule did, as "applied" (a PUT's answer). */
static void mapping_write(jw *w, const scim_mapping_rec *m, const scim_outcome *did) {
    jw_obj(w);
    jw_kint(w, "id", m->id);
    jw_key(w, "group");
    jw_obj(w);
    jw_kstr(w, "id", m->group_uuid);
    jw_kstr(w, "display_name", m->group_name);
    jw_obj_end(w);
    jw_kstr(w, "level", m->level_code);
    jw_kstr(w, "language", m->language);
    jw_kstr(w, "country", m->country);
    jw_kbool(w, "downloads", m->downloads != 0);
    if (did) {
        jw_key(w, "applied");
        counts_write(w, did);
    }
    jw_obj_end(w);
}

os_err h_scim_mappings_list(req *r) {
    scim_mapping_rec *rows;
    int n;
    os_err e = scim_mappings(r->x, r->agreement_id, &rows, &n);
    if (e) return e;
    jw *w = reply_json(r, 200);
    jw_obj(w);
    jw_key(w, "mappings");
    jw_arr(w);
    for (int i = 0; i < n; i++) mapping_write(w, &rows[i], NULL);
    jw_arr_end(w);
    jw_obj_end(w);
    return OS_OK;
}

/* Reads a rule from the body ({group, level, language, country, downloads}); fields in r->fe. */
static const char *rule_read(req *r, scim_mapping_rec *m) {
    const char *group = body_str(r, "group", 64, true);
    m->level_code = body_str(r, "level", 32, true);
    m->language = body_str(r, "language", 8, true);
    m->country = body_str(r, "country", 2, true);
    json_t *d = json_object_get(r->json, "downloads");
    if (d && !json_is_boolean(d)) fe_add(&r->fe, "downloads", "wrong_type", "true or false");
    m->downloads = !d || json_is_true(d);
    if (m->language) {
        bool ok = false;
        for (int i = 0; subscriber_languages[i] && !ok; i++) ok = !strcmp(subscriber_languages[i], m->language);
        if (!ok) fe_add(&r->fe, "language", "invalid_value", SUB_LANGUAGE_MESSAGE);
    }
    if (m->country && !country_code_known(m->country)) fe_add(&r->fe, "country", "invalid_value", "Use a two-letter country code");
    return group;
}

/* A plan as a preview handed it out: 64 lower-case hex digits. */
static bool plan_ok(const char *plan) {
    if (strlen(plan) != 64) return false;
    for (const char *p = plan; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return false;
    return true;
}

#define PLAN_MESSAGE "Send the plan a preview of this change answered"

/* The apply's or preview's refusal: plan_changed, a seat refused, or the fields. */
static os_err rule_fail(req *r, os_err e, const scim_fault *f) {
    if (e == OS_ERR_CONFLICT && f->reason && !strcmp(f->reason, "plan_changed")) {
        problem_reply_status(r, 409, "plan_changed", f->detail);
        return OS_OK;
    }
    if (f->detail) r->problem_detail = f->detail;
    return e;
}

static void effects_write(jw *w, const char *key, const scim_effect *list, int n, bool change, bool refused) {
    jw_key(w, key);
    jw_arr(w);
    for (int i = 0; i < n; i++) {
        jw_obj(w);
        jw_kstr(w, "scim_id", list[i].scim_id);
        jw_kstr(w, "email", list[i].email);
        jw_kstr(w, "name", list[i].name);
        if (change) {
            jw_kstr(w, "from_level", list[i].level);
            jw_kstr(w, "to_level", list[i].to_level);
        } else jw_kstr(w, "level", list[i].level);
        if (refused) jw_kstr(w, "reason", list[i].reason);
        jw_obj_end(w);
    }
    jw_arr_end(w);
}

/* {gains, losses, changes, refused} counted exactly. */
static void counts_write(jw *w, const scim_outcome *o) {
    jw_obj(w);
    jw_kint(w, "gains", o->gains_total);
    jw_kint(w, "losses", o->losses_total);
    jw_kint(w, "changes", o->changes_total);
    jw_kint(w, "refused", o->refused_total);
    jw_obj_end(w);
}

/* {group, level, language, country, downloads[, plan]}: the group's rule, set or changed;
 * with plan, only if it does what the preview showed. */
os_err h_scim_mapping_put(req *r) {
    scim_mapping_rec m = {0};
    const char *group = rule_read(r, &m);
    const char *plan = body_str(r, "plan", 64, false);
    if (plan && !plan_ok(plan)) fe_add(&r->fe, "plan", "invalid_value", PLAN_MESSAGE);
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    scim_fault f = {0};
    scim_mapping_rec out;
    scim_outcome did;
    os_err e = scim_mapping_put(r->x, r->agreement_id, group, &m, plan, &r->fe, &f, &out, &did);
    if (e) return rule_fail(r, e, &f);
    mapping_write(reply_json(r, 200), &out, &did);
    return OS_OK;
}

/* ?plan=: removed only if it does what the preview showed, answered 200 with what it did;
 * without, 204 as ever. */
os_err h_scim_mapping_delete(req *r) {
    int64_t id;
    if (!req_param_id(r, 1, &id)) return OS_ERR_NOT_FOUND;
    const char *plan = query_token(r, "plan", 64);
    if (plan && !plan_ok(plan)) fe_add(&r->fe, "plan", "invalid_value", PLAN_MESSAGE);
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    scim_fault f = {0};
    scim_outcome did;
    os_err e = scim_mapping_delete(r->x, r->agreement_id, id, plan, &f, &did);
    if (e) return rule_fail(r, e, &f);
    if (!plan) {
        reply_empty(r, 204);
        return OS_OK;
    }
    jw *w = reply_json(r, 200);
    jw_obj(w);
    jw_key(w, "applied");
    counts_write(w, &did);
    jw_obj_end(w);
    return OS_OK;
}

/* A rule to set (the PUT's body) or {"remove": <rule id>}: what applying it would do, and
 * its plan. Nothing is written. */
os_err h_scim_mapping_preview(req *r) {
    scim_rule_change ch = {0};
    scim_mapping_rec m = {0};
    json_t *rm = json_object_get(r->json, "remove");
    if (rm) {
        if (!json_is_integer(rm) || json_integer_value(rm) <= 0)
            fe_add(&r->fe, "remove", "invalid_value", "The id of one of the agreement's rules");
        else ch.remove_id = (int64_t)json_integer_value(rm);
        if (json_object_get(r->json, "group"))
            fe_add(&r->fe, "remove", "invalid_value", "Either remove a rule or set one, not both");
    } else {
        ch.group_id = rule_read(r, &m);
        ch.m = &m;
    }
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    scim_fault f = {0};
    scim_outcome o;
    os_err e = scim_mapping_preview(r->x, r->agreement_id, &ch, &r->fe, &f, &o);
    if (e) return rule_fail(r, e, &f);
    jw *w = reply_json(r, 200);
    jw_obj(w);
    effects_write(w, "gains", o.gains, o.ngains, false, false);
    effects_write(w, "losses", o.losses, o.nlosses, false, false);
    effects_write(w, "changes", o.changes, o.nchanges, true, false);
    effects_write(w, "refused", o.refused, o.nrefused, false, true);
    jw_key(w, "counts");
    counts_write(w, &o);
    jw_kint(w, "listed_max", SCIM_PREVIEW_LIST_MAX);
    jw_kstr(w, "plan", o.plan);
    jw_obj_end(w);
    return OS_OK;
}

/* {"groups": [{id, display_name, members, active_members}], "total"}: what the provider
 * pushed, for choosing a rule's group. */
os_err h_scim_groups_summary(req *r) {
    scim_group_count_rec *rows;
    int n;
    int64_t total;
    os_err e = scim_group_counts(r->x, r->agreement_id, &rows, &n, &total);
    if (e) return e;
    jw *w = reply_json(r, 200);
    jw_obj(w);
    jw_key(w, "groups");
    jw_arr(w);
    for (int i = 0; i < n; i++) {
        jw_obj(w);
        jw_kstr(w, "id", rows[i].uuid);
        jw_kstr(w, "display_name", rows[i].display_name);
        jw_kint(w, "members", rows[i].members);
        jw_kint(w, "active_members", rows[i].active);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    jw_kint(w, "total", total);
    jw_obj_end(w);
    return OS_OK;
}
