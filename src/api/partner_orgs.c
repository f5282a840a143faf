/* partner_orgs.c — the partner organization's page for its own people: its people, its
 * relationships with customers' agreements and who acts under each. Signed-in users only
 * (ACCESS_USER); membership is checked here through the domain: someone who is not one of
 * the organization's people gets 404, so its existence is not revealed, and a plain member
 * asking for an admin's change gets 403 `partner_admin_required` — both before the body is
 * looked at, as the pipeline refuses before it parses. */
#include <string.h>
#include "api.h"
#include "core/limits.h"
#include "domain/partner_orgs.h"

static const char *const person_roles[] = {"admin", "member", NULL};
static const char *const people_kinds[] = {"all", "named", NULL};

/* The organization of the path's first {param} if the caller may see it (and, with
 * need_admin, change it); otherwise the error to answer, its problem code set. */
static os_err org_of_path(req *r, bool need_admin, int64_t *org_id) {
    if (!req_param_id(r, 0, org_id)) return OS_ERR_NOT_FOUND;
    partner_org_rec org;
    os_err e = porg_member(r->x, *org_id, need_admin, &org);
    if (e == OS_ERR_FORBIDDEN) {
        r->problem_code = "partner_admin_required";
        r->problem_detail = "Only an admin of the partner organization can do this";
    }
    return e;
}

static void write_person(jw *w, const partner_person_rec *p) {
    jw_obj(w);
    jw_kint(w, "id", p->id);
    jw_kstr(w, "name", p->name);
    jw_kstr(w, "email", p->email);
    jw_kstr(w, "role", p->role);
    jw_kbool(w, "has_account", p->has_account);
    jw_obj_end(w);
}

/* {"organizations":[{id, name, role}]} */
os_err h_porgs_list(req *r) {
    partner_org_rec *rows;
    int n;
    os_err e = porg_list(r->x, &rows, &n);
    if (e) return e;
    jw *w = reply_json(r, 200);
    jw_obj(w);
    jw_key(w, "organizations");
    jw_arr(w);
    for (int i = 0; i < n; i++) {
        jw_obj(w);
        jw_kint(w, "id", rows[i].id);
        jw_kstr(w, "name", rows[i].name);
        jw_kstr(w, "role", rows[i].role);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    jw_obj_end(w);
    return OS_OK;
}

/* {id, name, role, people:[{id, name, email, role, has_account}],
 *  relationships:[PartnerRelationship], requests:[PartnerRequest (open)]} */
os_err h_porg_get(req *r) {
    int64_t org_id;
    if (!req_param_id(r, 0, &org_id)) return OS_ERR_NOT_FOUND;
    porg_page p;
    os_err e = porg_page_read(r->x, org_id, &p);
    if (e) return e;
    jw *w = reply_json(r, 200);
    jw_obj(w);
    jw_kint(w, "id", p.org.id);
    jw_kstr(w, "name", p.org.name);
    jw_kstr(w, "role", p.org.role);
    jw_key(w, "people");
    jw_arr(w);
    for (int i = 0; i < p.npeople; i++) write_person(w, &p.people[i]);
    jw_arr_end(w);
    jw_key(w, "relationships");
    jw_arr(w);
    for (int i = 0; i < p.nrels; i++) {
        const partner_request_rec *open = NULL;
        for (int k = 0; k < p.nrequests; k++)
            if (p.requests[k].relationship_id == p.rels[i].id) open = &p.requests[k];
        api_write_relationship(w, &r->a, &p.rels[i], p.named, p.nnamed, open);
    }
    jw_arr_end(w);
    jw_key(w, "requests");
    jw_arr(w);
    for (int i = 0; i < p.nrequests; i++) api_write_partner_request(w, &r->a, &p.requests[i]);
    jw_arr_end(w);
    jw_obj_end(w);
    return OS_OK;
}

/* {email, role: "admin"|"member", language?: "en"|"fr"} → 201 person */
os_err h_porg_person_add(req *r) {
    int64_t org_id;
    os_err e = org_of_path(r, true, &org_id);
    if (e) return e;
    const char *email = body_email(r, "email", true);
    const char *role = body_enum(r, "role", person_roles, true);
    const char *lang = body_enum(r, "language", api_languages, false);
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    partner_person_rec p;
    e = porg_person_add(r->x, org_id, email, role, lang, r->user_language, &p);
    if (e == OS_ERR_CONFLICT) {
        r->problem_code = "already_member";
        r->problem_detail = "This address is already one of the organization's people";
    }
    if (e) return e;
    write_person(reply_json(r, 201), &p);
    return OS_OK;
}

os_err h_porg_person_remove(req *r) {
    int64_t org_id, member_id;
    os_err e = org_of_path(r, true, &org_id);
    if (e) return e;
    if (!req_param_id(r, 1, &member_id)) return OS_ERR_NOT_FOUND;
    e = porg_person_remove(r->x, org_id, member_id);
    if (e == OS_ERR_CONFLICT) {
        r->problem_code = "last_partner_admin";
        r->problem_detail = "A partner organization always keeps at least one admin; make someone else admin first";
    }
    if (!e) reply_empty(r, 204);
    return e;
}

/* {people: "all"|"named", member_ids: [id…] (named: required, not empty)} → 200
 * PartnerRelationship */
os_err h_porg_rel_people(req *r) {
    int64_t org_id, rel_id;
    os_err e = org_of_path(r, true, &org_id);
    if (e) return e;
    if (!req_param_id(r, 1, &rel_id)) return OS_ERR_NOT_FOUND;
    const char *kind = body_enum(r, "people", people_kinds, true);
    bool named = kind && !strcmp(kind, "named");
    json_t *ids = json_object_get(r->json, "member_ids");
    int64_t *member_ids = NULL;
    int n = 0;
    if (ids && !json_is_null(ids)) {
        size_t i;
        json_t *it;
        if (!json_is_array(ids)) fe_add(&r->fe, "member_ids", "wrong_type", "A list of member ids");
        else if (json_array_size(ids) > LIMIT_PARTNER_NAMED_PEOPLE)
            fe_add_params(&r->fe, "member_ids", "too_long",
                          arena_printf(&r->a, "At most %d people", LIMIT_PARTNER_NAMED_PEOPLE),
                          arena_printf(&r->a, "{\"max\":%d}", LIMIT_PARTNER_NAMED_PEOPLE));
        else {
            member_ids = arena_alloc(&r->a, sizeof *member_ids * (json_array_size(ids) + 1));
            json_array_foreach(ids, i, it) {
                if (!json_is_integer(it) || json_integer_value(it) <= 0) {
                    fe_add(&r->fe, "member_ids", "wrong_type", "A list of member ids");
                    break;
                }
                member_ids[n++] = json_integer_value(it);
            }
        }
    }
    if (named && !n && !fe_any(&r->fe))
        fe_add(&r->fe, "member_ids", "required", "Name at least one person, or choose all the organization's people");
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    rel_rec rel;
    rel_person_rec *people;
    int npeople;
    const partner_request_rec *open;
    e = porg_rel_people(r->x, org_id, rel_id, named, member_ids, n, &r->fe, &rel, &people, &npeople, &open);
    if (e == OS_ERR_CONFLICT) r->problem_detail = "This relationship has ended";
    if (e) return e;
    api_write_relationship(reply_json(r, 200), &r->a, &rel, people, npeople, open);
    return OS_OK;
}
