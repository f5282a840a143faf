/* columns.h — the columns of a subscriber in files: exports, the bulk-add template and
 * uploaded bulk files all use this one table, so a file the portal writes can be read back.
 *
 * Order (the same everywhere): Name, Sign-in Email, Notification Email, Subscription Level,
 * Reference, Downloads, Country, Language, [Assigned, Expires,] Subscription Id. Assigned and
 * Expires are written in exports only: the portal decides them, an upload cannot.
 * Headers exist in English and French (for users whose language is fr). Downloads are
 * written Yes/No (Oui/Non); levels, countries and languages as their codes.
 *
 * Static data; thread-safe.
 */
#ifndef OPENSEAT_COLUMNS_H
#define OPENSEAT_COLUMNS_H
#include <stdbool.h>

typedef enum sub_column {
    SUBCOL_NAME,
    SUBCOL_SIGN_IN_EMAIL,
    SUBCOL_NOTIFICATION_EMAIL,
    SUBCOL_LEVEL,
    SUBCOL_REFERENCE,
    SUBCOL_DOWNLOADS,
    SUBCOL_COUNTRY,
    SUBCOL_LANGUAGE,
    SUBCOL_ASSIGNED,
    SUBCOL_EXPIRES,
    SUBCOL_ID,
    SUBCOL_COUNT
} sub_column;

typedef struct column_def {
    sub_column id;
    const char *field;     /* the API's name for it: "sign_in_email" */
    const char *en, *fr;   /* the header in each language */
    bool export_only;      /* written in exports, not part of the template or an upload */
    double width;          /* spreadsheet column width, in characters */
} column_def;

/* Every column, in file order: sub_columns[i].id == i. */
extern const column_def sub_columns[SUBCOL_COUNT];

/* The header of column c in lang ("fr": French; anything else: English). */
const char *columns_header(sub_column c, const char *lang);

/* The column an uploaded header names, in English or French, whatever its case, accents,
 * spacing and punctuation ("sign-in e-mail", "NIVEAU D'ABONNEMENT"); -1 when none does. */
int columns_match(const char *header);

/* For a header columns_match does not know: the column it most likely meant, -1 when none
 * — folded, within two edits of a known name (one for 4 to 7 letters, none under 4), or a
 * known name with one word more or less ("Pays client", "Sign-in"). *suggestion is then that
 * column's header, in the language of the name it was near. */
int columns_suggest(const char *header, const char **suggestion);

/* "Yes"/"No", or "Oui"/"Non" in French. */
const char *columns_yes_no(bool yes, const char *lang);
/* 1 for yes, 0 for no (either language, any case, spaces around ignored), -1 otherwise. */
int columns_parse_yes_no(const char *s);

/* Sheet names of the spreadsheet files: the subscribers ("Subscribers", "Abonnés") and the
 * template's lists of allowed values ("Lists", "Listes"). */
const char *columns_sheet_subscribers(const char *lang);
const char *columns_sheet_lists(const char *lang);

#endif
