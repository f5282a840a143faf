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

int columns_match(const char *header) {
    char want[256], have[256];
    if (!header || strlen(header) > 200 || !fold(header, want, sizeof want)) return -1;
    for (int i = 0; i < SUBCOL_COUNT; i++) {
        const char *names[] = {sub_columns[i].en, sub_columns[i].fr};
        for (int k = 0; k < 2; k++)
            if (fold(names[k], have, sizeof have) && !strcmp(want, have)) return i;
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
