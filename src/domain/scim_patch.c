/* scim_patch.c — RFC 7644 §3.5.2 PATCH over a resource held as JSON, and list filters.
 * Contract in scim.h. Attribute names match in any case; a name set anew keeps the spelling
 * of one already there. */
#include <string.h>
#include <strings.h>
#include "core/arena.h"
#include "domain/scim.h"

static os_err fault(scim_fault *f, const char *type, const char *detail) {
    f->scim_type = type;
    f->detail = detail;
    return OS_ERR_INVALID;
}

/* The key of obj equal to name in any case, or NULL. */
static const char *ci_key(json_t *obj, const char *name) {
    const char *k;
    json_t *v;
    if (!json_is_object(obj)) return NULL;
    json_object_foreach(obj, k, v) if (!strcasecmp(k, name)) return k;
    return NULL;
}

static json_t *ci_get(json_t *obj, const char *name) {
    const char *k = ci_key(obj, name);
    return k ? json_object_get(obj, k) : NULL;
}

static void ci_set(json_t *obj, const char *name, json_t *v) {
    const char *k = ci_key(obj, name);
    json_object_set_new(obj, k ? k : name, v);
}

static void ci_del(json_t *obj, const char *name) {
    const char *k = ci_key(obj, name);
    if (k) json_object_del(obj, k);
}

/* A parsed path: attr[fattr eq fvalue].sub, each part optional but attr. container: the
 * extension schema's object the attribute lives in (NULL: the resource itself). */
typedef struct spath {
    const char *container, *attr, *fattr, *sub;
    json_t *fvalue;   /* borrowed from the arena's parse: a json string, bool or number */
} spath;

static const char *const core_prefixes[] = {"urn:ietf:params:scim:schemas:core:2.0:User:",
                                            "urn:ietf:params:scim:schemas:core:2.0:Group:", NULL};

/* A filter's value: "quoted" (with \" escapes), true/false, a number. NULL when malformed. */
static json_t *filter_value(const char *s, const char **end) {
    while (*s == ' ') s++;
    if (*s == '"') {
        const char *p = s + 1;
        while (*p && *p != '"') p += (*p == '\\' && p[1]) ? 2 : 1;
        if (*p != '"') return NULL;
        json_t *v = json_loadb(s, (size_t)(p + 1 - s), JSON_DECODE_ANY, NULL);
        *end = p + 1;
        return v;
    }
    size_t n = strcspn(s, " ]");
    char tmp[32];
    if (!n || n >= sizeof tmp) return NULL;
    memcpy(tmp, s, n);
    tmp[n] = 0;
    *end = s + n;
    if (!strcasecmp(tmp, "true")) return json_true();
    if (!strcasecmp(tmp, "false")) return json_false();
    return json_loads(tmp, JSON_DECODE_ANY, NULL);
}

static bool parse_path(arena *a, const char *path, spath *p) {
    memset(p, 0, sizeof *p);
    for (int i = 0; core_prefixes[i]; i++)
        if (!strncasecmp(path, core_prefixes[i], strlen(core_prefixes[i]))) path += strlen(core_prefixes[i]);
    if (!strncasecmp(path, "urn:", 4)) {
        /* An extension's attribute: the schema URN, then ':' and the attribute. */
        const char *colon = strrchr(path, ':');
        if (!colon || !colon[1]) return false;
        p->container = arena_strndup(a, path, (size_t)(colon - path));
        path = colon + 1;
    }
    size_t n = strcspn(path, "[.");
    if (!n) return false;
    p->attr = arena_strndup(a, path, n);
    const char *s = path + n;
    if (*s == '[') {
        s++;
        while (*s == ' ') s++;
        size_t an = strcspn(s, " ]");
        if (!an) return false;
        p->fattr = arena_strndup(a, s, an);
        s += an;
        while (*s == ' ') s++;
        if (strncasecmp(s, "eq ", 3)) return false;
        const char *end;
        p->fvalue = filter_value(s + 3, &end);
        if (!p->fvalue) return false;
        s = end;
        while (*s == ' ') s++;
        if (*s != ']') {
            json_decref(p->fvalue);
            p->fvalue = NULL;
            return false;
        }
        s++;
    }
    if (*s == '.') {
        if (!s[1] || strpbrk(s + 1, ".[]")) goto bad;
        p->sub = arena_strdup(a, s + 1);
        s += strlen(s);
    }
    if (*s) goto bad;
    return true;
bad:
    if (p->fvalue) json_decref(p->fvalue);
    p->fvalue = NULL;
    return false;
}

/* Whether element el (an object) matches the filter: strings compare in any case, as the
 * values Entra and Okta filter on (ids, types) are not case-exact. */
static bool matches(json_t *el, const spath *p) {
    json_t *v = ci_get(el, p->fattr);
    if (!v) return false;
    if (json_is_string(v) && json_is_string(p->fvalue))
        return !strcasecmp(json_string_value(v), json_string_value(p->fvalue));
    return json_equal(v, p->fvalue);
}

/* Two elements of a multi-valued attribute are the same when their "value" is (members,
 * emails), else when they are equal. */
static bool same_element(json_t *x, json_t *y) {
    json_t *a = ci_get(x, "value"), *b = ci_get(y, "value");
    if (a && b) return json_equal(a, b);
    return json_equal(x, y);
}

static void append_unique(json_t *arr, json_t *v) {
    size_t i;
    json_t *el;
    json_array_foreach(arr, i, el) if (same_element(el, v)) {
        if (json_is_object(el) && json_is_object(v)) json_object_update(el, v);
        return;
    }
    json_array_append(arr, v);
}

/* add (RFC 7644 §3.5.2.1) of value at name in obj. */
static void add_value(json_t *obj, const char *name, json_t *v) {
    json_t *cur = ci_get(obj, name);
    if (cur && json_is_array(cur)) {
        if (json_is_array(v)) {
            size_t i;
            json_t *el;
            json_array_foreach(v, i, el) append_unique(cur, el);
        } else append_unique(cur, v);
    } else if (cur && json_is_object(cur) && json_is_object(v)) {
        const char *k;
        json_t *sv;
        json_object_foreach(v, k, sv) add_value(cur, k, sv);
    } else ci_set(obj, name, json_deep_copy(v));
}

/* replace of value at name in obj: a complex value's sub-attributes replace theirs, others
 * stay (§3.5.2.3); anything else replaces what was there. */
static void replace_value(json_t *obj, const char *name, json_t *v) {
    json_t *cur = ci_get(obj, name);
    if (cur && json_is_object(cur) && json_is_object(v)) {
        const char *k;
        json_t *sv;
        json_object_foreach(v, k, sv) ci_set(cur, k, json_deep_copy(sv));
    } else ci_set(obj, name, json_deep_copy(v));
}

static json_t *container_of(json_t *res, const spath *p, bool create) {
    if (!p->container) return res;
    json_t *c = ci_get(res, p->container);
    if (!c && create) {
        c = json_object();
        ci_set(res, p->container, c);
    }
    return json_is_object(c) ? c : NULL;
}

static os_err op_path(arena *a, json_t *res, const char *op, const char *path, json_t *value, scim_fault *f);

/* A value object without a path: each key is an attribute, or a path (Entra sends
 * "name.givenName" and `emails[type eq "work"].value` keys). */
static os_err op_no_path(arena *a, json_t *res, const char *op, json_t *value, scim_fault *f) {
    if (!json_is_object(value)) return fault(f, "invalidValue", "An operation without a path takes an object value");
    const char *k;
    json_t *v;
    json_object_foreach(value, k, v) {
        if (strpbrk(k, ".[") || !strncasecmp(k, "urn:", 4)) {
            os_err e = op_path(a, res, op, k, v, f);
            if (e) return e;
        } else if (!strcasecmp(op, "add")) add_value(res, k, v);
        else replace_value(res, k, v);
    }
    return OS_OK;
}

static os_err op_path(arena *a, json_t *res, const char *op, const char *path, json_t *value, scim_fault *f) {
    spath p;
    if (!parse_path(a, path, &p)) return fault(f, "invalidPath", arena_printf(a, "Cannot read the path %s", path));
    bool add = !strcasecmp(op, "add"), rem = !strcasecmp(op, "remove");
    os_err e = OS_OK;
    json_t *obj = container_of(res, &p, !rem);
    if (!obj) goto done;   /* removing from an extension never written: nothing to do */
    if (!p.fattr) {
        if (p.sub) {
            json_t *c = ci_get(obj, p.attr);
            if (!c && !rem) {
                c = json_object();
                ci_set(obj, p.attr, c);
            }
            if (!json_is_object(c)) goto done;
            if (rem) ci_del(c, p.sub);
            else if (add) add_value(c, p.sub, value);
            else replace_value(c, p.sub, value);
        } else if (rem) {
            json_t *cur = ci_get(obj, p.attr);
            if (value && json_is_array(cur)) {
                /* Entra: remove these values from a multi-valued attribute. */
                json_t *vs = json_is_array(value) ? value : NULL;
                for (size_t i = json_array_size(cur); i-- > 0;) {
                    json_t *el = json_array_get(cur, i);
                    size_t j;
                    json_t *w;
                    bool hit = false;
                    if (vs) json_array_foreach(vs, j, w) hit = hit || same_element(el, w);
                    else hit = same_element(el, value);
                    if (hit) json_array_remove(cur, i);
                }
            } else ci_del(obj, p.attr);
        } else if (add) add_value(obj, p.attr, value);
        else replace_value(obj, p.attr, value);
        goto done;
    }
    /* attr[filter] and attr[filter].sub */
    json_t *arr = ci_get(obj, p.attr);
    if (!arr && !rem) {
        arr = json_array();
        ci_set(obj, p.attr, arr);
    }
    if (!json_is_array(arr)) {
        if (!rem) e = fault(f, "invalidPath", arena_printf(a, "%s is not multi-valued", p.attr));
        goto done;
    }
    int hits = 0;
    for (size_t i = json_array_size(arr); i-- > 0;) {
        json_t *el = json_array_get(arr, i);
        if (!json_is_object(el) || !matches(el, &p)) continue;
        hits++;
        if (rem && !p.sub) json_array_remove(arr, i);
        else if (rem) ci_del(el, p.sub);
        else if (p.sub) (add ? add_value : replace_value)(el, p.sub, value);
        else if (json_is_object(value)) {
            const char *k;
            json_t *v;
            json_object_foreach(value, k, v) ci_set(el, k, json_deep_copy(v));
        } else e = fault(f, "invalidValue", "A filtered path without a sub-attribute takes an object value");
    }
    if (!hits && !rem && !e) {
        /* None matched: the element the filter describes is added with the value. */
        json_t *el = json_object();
        json_object_set(el, p.fattr, p.fvalue);
        if (p.sub) json_object_set(el, p.sub, value);
        else if (json_is_object(value)) json_object_update(el, value);
        json_array_append_new(arr, el);
    }
    if (rem && !json_array_size(arr)) ci_del(obj, p.attr);
done:
    if (p.fvalue) json_decref(p.fvalue);
    return e;
}

os_err scim_patch_apply(arena *a, json_t *resource, json_t *ops, scim_fault *f) {
    if (!json_is_array(ops) || !json_array_size(ops))
        return fault(f, "invalidSyntax", "Operations must be a non-empty list");
    if (json_array_size(ops) > SCIM_PATCH_OPS_MAX)
        return fault(f, "tooMany", arena_printf(a, "At most %d operations in one request", SCIM_PATCH_OPS_MAX));
    size_t i;
    json_t *o;
    json_array_foreach(ops, i, o) {
        json_t *jop = ci_get(o, "op"), *jpath = ci_get(o, "path"), *value = ci_get(o, "value");
        const char *op = json_string_value(jop);
        if (!op || (strcasecmp(op, "add") && strcasecmp(op, "replace") && strcasecmp(op, "remove")))
            return fault(f, "invalidSyntax", "Each operation's op is add, replace or remove");
        if (jpath && !json_is_null(jpath) && !json_is_string(jpath))
            return fault(f, "invalidPath", "An operation's path is text");
        const char *path = json_string_value(jpath);
        if (path && strlen(path) > 512) return fault(f, "invalidPath", "The path is too long");
        if (path && !*path) path = NULL;
        if (strcasecmp(op, "remove") && !value) return fault(f, "invalidValue", "add and replace need a value");
        os_err e;
        if (!path) {
            if (!strcasecmp(op, "remove")) return fault(f, "noTarget", "remove needs a path");
            e = op_no_path(a, resource, op, value, f);
        } else e = op_path(a, resource, op, path, value, f);
        if (e) return e;
    }
    return OS_OK;
}

os_err scim_filter_parse(arena *a, const char *filter, bool groups, scim_filter_attr *attr, const char **value,
                         scim_fault *f) {
    *attr = SCIM_F_NONE;
    *value = NULL;
    if (!filter || !*filter) return OS_OK;
    static const struct {
        const char *name;
        scim_filter_attr attr;
        bool groups;
    } known[] = {
        {"userName", SCIM_F_USER_NAME, false},
        {"externalId", SCIM_F_EXTERNAL_ID, false},
        {"emails[type eq \"work\"].value", SCIM_F_EMAIL, false},
        {"emails.value", SCIM_F_EMAIL, false},
        {"externalId", SCIM_F_EXTERNAL_ID, true},
        {"displayName", SCIM_F_DISPLAY_NAME, true},
    };
    const char *s = filter;
    while (*s == ' ') s++;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        size_t n = strlen(known[i].name);
        if (known[i].groups != groups || strncasecmp(s, known[i].name, n) || strncasecmp(s + n, " eq ", 4)) continue;
        const char *end;
        json_t *v = filter_value(s + n + 4, &end);
        while (v && *end == ' ') end++;
        if (!v || !json_is_string(v) || *end) {
            if (v) json_decref(v);
            break;
        }
        *attr = known[i].attr;
        *value = arena_strdup(a, json_string_value(v));
        json_decref(v);
        return OS_OK;
    }
    return fault(f, "invalidFilter",
                 groups ? "Filters supported: displayName eq \"…\", externalId eq \"…\""
                        : "Filters supported: userName eq \"…\", externalId eq \"…\", "
                          "emails[type eq \"work\"].value eq \"…\"");
}
