/* columns.c — see columns.h. */
#include "columns.h"
#include <string.h>
#include <strings.h>
#include "core/search.h"

const column_def sub_columns[SUBCOL_COUNT] = {
    {SUBCOL_NAME, "name", "Name", "Nom", false, 28},
    {SUBCOL_SIGN_IN_EMAIL, "sign_in_email", "Sign-in Email", "E-mail de connexion", false, 34},
    {SUBCOL_NOTIFICATION_EMAIL, "notification_email", "Notification Email", "E-mail de notification", false, 34},
    {SUBCOL_LEVEL, "level", "Subscription Level", "Niveau d'abonnement", false, 22},
    {SUBCOL_REFERENCE, "reference", "Reference", "Référence", false, 24},
    {SUBCOL_DOWNLOADS, "downloads", "Downloads", "Téléchargements", false, 16},
    {SUBCOL_COUNTRY, "country", "Country", "Pays", false, 10},
    {SUBCOL_LANGUAGE, "language", "Language", "Langue", false, 10},
    {SUBCOL_ASSIGNED, "assigned", "Assigned", "Attribué", true, 12},
    {SUBCOL_EXPIRES, "expires", "Expires", "Expire", true, 12},
    {SUBCOL_ID, "id", "Subscription Id", "ID d'abonnement", false, 38},
};

static bool is_fr(const char *lang) { return lang && !strcmp(lang, "fr"); }

const char *columns_header(sub_column c, const char *lang) {
    if ((int)c < 0 || c >= SUBCOL_COUNT) return "";
    return is_fr(lang) ? sub_columns[c].fr : sub_columns[c].en;
}

/* Uploaded headers are typed by people: "E-MAIL DE CONNEXION", "Reference", "Niveau
 * d’abonnement". Both sides are folded into search terms (core/search.h: case, accents
 * and punctuation removed) and the terms joined, so only the letters and digits are
 * compared — which also makes "Sign-in Email" and "Signin Email" the same header. */
static bool fold(const char *s, char *out, size_t cap) {
    const char *texts[] = {s};
    char terms[SEARCH_TERMS_MAX];
    if (!search_terms(texts, 1, terms, sizeof terms)) return false;
    size_t n = 0;
    for (const char *p = terms; *p; p++)
        if (*p != ' ') {
            if (n + 1 >= cap) return false;
            out[n++] = *p;
        }
    out[n] = 0;
    return n > 0;
}

/* Other names people give the columns, in either language; compared folded like the
 * headers (so "E-mail", "email" and "EMAIL" are one entry). Documented in
 * docs/api-contract.md ("Files as people make them"): keep the two lists the same. */
static const struct {
    sub_column c;
    bool fr;
    const char *name;
} synonyms[] = {
    {SUBCOL_NAME, false, "Full Name"},
    {SUBCOL_NAME, false, "Display Name"},
    {SUBCOL_NAME, true, "Nom complet"},
    {SUBCOL_NAME, true, "Nom et prénom"},
    {SUBCOL_NAME, true, "Prénom et nom"},
    {SUBCOL_SIGN_IN_EMAIL, false, "Email"},
    {SUBCOL_SIGN_IN_EMAIL, false, "Email Address"},
    {SUBCOL_SIGN_IN_EMAIL, false, "Sign-in Email Address"},
    {SUBCOL_SIGN_IN_EMAIL, false, "Sign-in"},
    {SUBCOL_SIGN_IN_EMAIL, true, "Adresse e-mail"},
    {SUBCOL_SIGN_IN_EMAIL, true, "Courriel"},
    {SUBCOL_SIGN_IN_EMAIL, true, "Adresse de courriel"},
    {SUBCOL_SIGN_IN_EMAIL, true, "Adresse électronique"},
    {SUBCOL_SIGN_IN_EMAIL, true, "Courriel de connexion"},
    {SUBCOL_SIGN_IN_EMAIL, true, "Adresse e-mail de connexion"},
    {SUBCOL_NOTIFICATION_EMAIL, false, "Notification Email Address"},
    {SUBCOL_NOTIFICATION_EMAIL, true, "Courriel de notification"},
    {SUBCOL_NOTIFICATION_EMAIL, true, "Adresse e-mail de notification"},
    {SUBCOL_LEVEL, false, "Level"},
    {SUBCOL_LEVEL, true, "Niveau"},
    {SUBCOL_REFERENCE, false, "Ref"},
    {SUBCOL_DOWNLOADS, false, "Download"},
    {SUBCOL_DOWNLOADS, true, "Téléchargement"},
    {SUBCOL_COUNTRY, false, "Country Code"},
    {SUBCOL_COUNTRY, true, "Code pays"},
    {SUBCOL_LANGUAGE, false, "Language Code"},
    {SUBCOL_LANGUAGE, true, "Code langue"},
    {SUBCOL_ASSIGNED, false, "Assigned on"},
    {SUBCOL_ASSIGNED, true, "Attribué le"},
    {SUBCOL_EXPIRES, false, "Expires on"},
    {SUBCOL_EXPIRES, true, "Expire le"},
    {SUBCOL_ID, false, "ID"},
    {SUBCOL_ID, false, "Subscription Number"},
    {SUBCOL_ID, true, "Identifiant"},
    {SUBCOL_ID, true, "Identifiant d'abonnement"},
    {SUBCOL_ID, true, "N° d'abonnement"},
    {SUBCOL_ID, true, "Numéro d'abonnement"},
};

#define NSYN (sizeof synonyms / sizeof synonyms[0])

/* Every known name, k in [0, 2 * SUBCOL_COUNT + NSYN): the headers, then the synonyms. */
static const char *known_name(size_t k, int *col, bool *fr) {
    if (k < 2 * SUBCOL_COUNT) {
        *col = (int)(k / 2);
        *fr = k % 2;
        return *fr ? sub_columns[*col].fr : sub_columns[*col].en;
    }
    k -= 2 * SUBCOL_COUNT;
    *col = (int)synonyms[k].c;
    *fr = synonyms[k].fr;
    return synonyms[k].name;
}

int columns_match(const char *header) {
    char want[256], have[256];
    if (!header || strlen(header) > 200 || !fold(header, want, sizeof want)) return -1;
    for (size_t k = 0; k < 2 * SUBCOL_COUNT + NSYN; k++) {
        int col;
        bool fr;
        const char *name = known_name(k, &col, &fr);
        if (fold(name, have, sizeof have) && !strcmp(want, have)) return col;
    }
    return -1;
}

/* Levenshtein distance of a and b, or more than `most` (then most + 1). Short strings only. */
static size_t distance(const char *a, const char *b, size_t most) {
    size_t na = strlen(a), nb = strlen(b);
    if (na > 64 || nb > 64) return most + 1;
    if ((na > nb ? na - nb : nb - na) > most) return most + 1;
    size_t prev[65], cur[65];
    for (size_t j = 0; j <= nb; j++) prev[j] = j;
    for (size_t i = 1; i <= na; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= nb; j++) {
            size_t d = prev[j - 1] + (a[i - 1] != b[j - 1]);
            if (prev[j] + 1 < d) d = prev[j] + 1;
            if (cur[j - 1] + 1 < d) d = cur[j - 1] + 1;
            cur[j] = d;
        }
        memcpy(prev, cur, sizeof(size_t) * (nb + 1));
    }
    return prev[nb] > most ? most + 1 : prev[nb];
}

/* The words of s, folded: count and up to 8 of them (each at most 63 bytes). */
static int words(const char *s, char w[8][64]) {
    const char *texts[] = {s};
    char terms[SEARCH_TERMS_MAX];
    if (!search_terms(texts, 1, terms, sizeof terms)) return 0;
    size_t pos = 0, len;
    const char *t;
    int n = 0;
    while (search_next(terms, &pos, &t, &len)) {
        if (n == 8 || len > 63) return 0;
        memcpy(w[n], t, len);
        w[n++][len] = 0;
    }
    return n;
}

/* True when the longer list of words is the shorter with one word more, in order. */
static bool one_word_apart(char a[8][64], int na, char b[8][64], int nb) {
    if (na < nb) return one_word_apart(b, nb, a, na);
    if (na != nb + 1 || nb == 0) return false;
    for (int skip = 0; skip < na; skip++) {
        bool same = true;
        for (int i = 0, j = 0; i < na && same; i++) {
            if (i == skip) continue;
            same = !strcmp(a[i], b[j++]);
        }
        if (same) return true;
    }
    return false;
}

int columns_suggest(const char *header, const char **suggestion) {
    char want[256], have[256], hw[8][64], kw[8][64];
    if (!header || strlen(header) > 200 || !fold(header, want, sizeof want)) return -1;
    int nh = words(header, hw);
    for (size_t k = 0; k < 2 * SUBCOL_COUNT + NSYN; k++) {
        int col;
        bool fr;
        const char *name = known_name(k, &col, &fr);
        if (!fold(name, have, sizeof have)) continue;
        /* Two edits in a long name are a typo; in a short one they make another word ("Non"
         * is not "Nom"): one edit from 4 letters, two from 8. */
        size_t len = strlen(have), most = len >= 8 ? 2 : len >= 4 ? 1 : 0;
        bool near = most && distance(want, have, most) <= most;
        if (!near) near = one_word_apart(hw, nh, kw, words(name, kw));
        if (near) {
            if (suggestion) *suggestion = fr ? sub_columns[col].fr : sub_columns[col].en;
            return col;
        }
    }
    return -1;
}

const char *columns_yes_no(bool yes, const char *lang) {
    if (is_fr(lang)) return yes ? "Oui" : "Non";
    return yes ? "Yes" : "No";
}

int columns_parse_yes_no(const char *s) {
    if (!s) return -1;
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    static const char *const yes[] = {"yes", "oui"}, *const no[] = {"no", "non"};
    for (int i = 0; i < 2; i++) {
        if (n == strlen(yes[i]) && !strncasecmp(s, yes[i], n)) return 1;
        if (n == strlen(no[i]) && !strncasecmp(s, no[i], n)) return 0;
    }
    return -1;
}

const char *columns_sheet_subscribers(const char *lang) { return is_fr(lang) ? "Abonnés" : "Subscribers"; }
const char *columns_sheet_lists(const char *lang) { return is_fr(lang) ? "Listes" : "Lists"; }
