/* template.h — e-mail templates: subject, plain text and HTML from one text file.
 *
 * Templates are compiled into the binary (see core/embed.h) as "mail/LANG/NAME.txt":
 * a first line "Subject: …", a blank line, then the plain-text body. Placeholders are
 * {{key}} (key: letters, digits, '_'); text that is not a well-formed placeholder is
 * left as written. {{key|date}} writes a value "YYYY-MM-DD" as the template language's
 * long date ("5 décembre 2029", "December 5, 2029"); {{key|datetime}} does the same for
 * "YYYY-MM-DD HH:MM[ ZONE]" ("5 décembre 2029 à 11:21 UTC", "December 5, 2029, 11:21
 * UTC"). A value that is not such a date is inserted unchanged.
 *
 * The HTML part is derived from the rendered text rather than kept as a second file,
 * so the two parts can never say different things. Values are inserted raw in the
 * text part, HTML-escaped in the HTML part, and with CR/LF (and other control
 * characters) turned into spaces in the subject, so a value cannot inject a header.
 * Only URLs in the template's own text and in values of keys named "link" or ending in
 * "_link" become <a> links: a user-chosen value such as a display name is never made
 * clickable.
 *
 * Thread-safe (no shared state). Everything returned is arena-owned.
 */
#ifndef OPENSEAT_MAIL_TEMPLATE_H
#define OPENSEAT_MAIL_TEMPLATE_H
#include "core/arena.h"
#include "core/error.h"

typedef struct mail_rendered {
    const char *subject;   /* one line, UTF-8 */
    const char *text;      /* LF line endings; mail_compose makes them CRLF */
    const char *html;      /* complete HTML document; LF line endings */
} mail_rendered;           /* all three strings arena-owned */

/* Render template `name` in `lang` with data_json, a flat JSON object whose values
 * are all strings (NULL means no data).
 *
 * lang is a language tag such as "en", "fr" or "fr-CA" (only the primary subtag
 * counts); a language with no such template, or NULL, falls back to "en".
 * Returns OS_ERR_NOT_FOUND for an unknown template, OS_ERR_INVALID for bad JSON, a
 * non-string value, or a placeholder with no value, OS_ERR_TOO_LARGE when the result
 * passes MAIL_RENDER_MAX bytes, OS_ERR_INTERNAL for a template file without its
 * "Subject:" header. On error *out is left untouched. */
os_err mail_render(arena *a, const char *name, const char *lang, const char *data_json,
                   mail_rendered *out);

/* Upper bound on any one rendered part. */
#define MAIL_RENDER_MAX (256 * 1024)

#endif
