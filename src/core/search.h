/* search.h — folding text into search terms: the subscribers' filter box, and column
 * headers of uploaded files matched whatever their case and accents.
 *
 * Text is folded into terms by SQLite's own unicode61 tokenizer (the one its full-text
 * engine uses): split on spaces and punctuation, lower-cased, diacritics removed, so
 * "Élodie Dupont <elodie.dupont@x.example>" gives "elodie dupont x example". Written once
 * here, the same folding serves the stored terms and the words typed into the filter.
 *
 * A terms string is each distinct term preceded by one space (" elodie dupont x example"):
 * instr(terms, ' ' || word) > 0 then says "some term starts with word".
 *
 * Thread-safe; the tokenizer is found once per process.
 */
#ifndef OPENSEAT_SEARCH_H
#define OPENSEAT_SEARCH_H
#include <stdbool.h>
#include <stddef.h>

/* Longest search text folded, in bytes: a name, two addresses and a reference fit. */
#define SEARCH_TERMS_MAX 4096

/* Folds texts[0..n) (NULL entries skipped) into out, a terms string of at most cap bytes
 * with its NUL; terms that would not fit are left out. False when the tokenizer is
 * unavailable (an SQLite built without FTS5). */
bool search_terms(const char *const *texts, int n, char *out, size_t cap);

/* Iterates a terms string: *pos starts at 0; each call points *term at the next term
 * (not NUL-terminated) and its length at *len. False at the end. */
bool search_next(const char *terms, size_t *pos, const char **term, size_t *len);

#endif
