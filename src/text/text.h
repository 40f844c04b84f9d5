/* text.h - words as the full-text index sees them: the tokenizer, case
 * fold, diacritic removal and English Porter stemmer that give the same
 * terms as SQLite FTS5's `porter unicode61 remove_diacritics 2` tokenizer
 * (the catalog's index), for the Milvus side, which has no full-text
 * search and stores these terms in an ARRAY<VARCHAR> field instead.
 *
 * Parity with FTS5 (tests/unit/test_text.c checks it against SQLite itself,
 * word by word): exact for ASCII, Latin-1 Supplement and Latin Extended-A
 * (U+0080..U+017F: English and Western/Central European names) and the
 * combining diacritics U+0300..U+036F. Other code points are kept as they
 * are (Greek and basic Cyrillic capitals are lower-cased), except the
 * punctuation, symbol and emoji blocks, which separate words. Where FTS5
 * folds some other script further, a Milvus collection still agrees with
 * itself (its rows and its queries go through this same code); only the
 * two backends may then rank such words differently.
 *
 * Everything here is pure computation: thread-safe, no global state. */
#ifndef DS_TEXT_H
#define DS_TEXT_H

#include <stddef.h>

#include "base/error.h"

/* FTS5's porter tokenizer leaves tokens longer than this unstemmed, and so
 * do we. */
#define TX_STEM_MAX 64

/* Called once per term, in order: term is the folded, stemmed token (not
 * NUL-terminated, n bytes, valid only during the call); start and end are
 * the byte offsets of the token in the input. Return non-zero to stop. */
typedef int (*tx_term_fn)(const char *term, size_t n, size_t start, size_t end, void *ctx);

/* Split text[0..len) into tokens (runs of letters and digits), fold each
 * (lower case, a single diacritic removed: "Café" -> "cafe") and, when stem
 * is set, apply the Porter stemmer ("chairs" -> "chair"). Invalid UTF-8
 * bytes separate tokens, as a NUL does. Returns 0, or what fn returned when
 * it stopped the scan. O(len); allocates nothing. */
int tx_tokenize(const char *text, size_t len, int stem, tx_term_fn fn, void *ctx);

/* The number of tokens in text[0..len) (stopping at max). */
size_t tx_count_tokens(const char *text, size_t len, size_t max);

/* Porter-stem the folded word w[0..*n) in place, per M. F. Porter, "An
 * algorithm for suffix stripping" (1980), as SQLite applies it: on bytes,
 * every byte but a, e, i, o, u (and y after a consonant) a consonant, so
 * "2020s" -> "2020" and "straße" -> "straß"; words of fewer than 3 or more
 * than TX_STEM_MAX bytes are left alone. Only ASCII bytes are removed, so
 * valid UTF-8 stays valid. *n gets the new length (never longer). */
void tx_porter(char *w, size_t *n);

#endif
