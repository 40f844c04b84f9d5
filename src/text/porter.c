/* porter.c - the English Porter stemmer (text.h), written from M. F.
 * Porter, "An algorithm for suffix stripping", Program 14(3), 1980, with
 * the two changes of Porter's own published implementation that SQLite's
 * FTS5 porter tokenizer follows too (step 2: "bli" -> "ble" in place of
 * "abli" -> "able", and "logi" -> "log").
 *
 * Notation of the paper: a word is [C](VC)^m[V], m its measure; *v* "the
 * stem has a vowel", *d "ends in a double consonant", *o "ends
 * consonant-vowel-consonant, the last not w, x or y". */
#include "text/text.h"

#include <string.h>

/* Is w[i] a consonant? y is one at the start or after a vowel. */
static int consonant(const char *w, size_t i)
{
    switch (w[i]) {
    case 'a': case 'e': case 'i': case 'o': case 'u': return 0;
    case 'y': return i == 0 ? 1 : !consonant(w, i - 1);
    default: return 1;
    }
}

/* m of the stem w[0..n). */
static int measure(const char *w, size_t n)
{
    size_t i = 0;
    int m = 0;
    while (i < n && consonant(w, i))
        i++;
    for (;;) {
        while (i < n && !consonant(w, i))
            i++;
        if (i >= n)
            return m;
        while (i < n && consonant(w, i))
            i++;
        m++;
        if (i >= n)
            return m;
    }
}

static int has_vowel(const char *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!consonant(w, i))
            return 1;
    return 0;
}

static int double_consonant(const char *w, size_t n)
{
    return n >= 2 && w[n - 1] == w[n - 2] && consonant(w, n - 1);
}

static int cvc(const char *w, size_t n)
{
    if (n < 3 || !consonant(w, n - 1) || consonant(w, n - 2) || !consonant(w, n - 3))
        return 0;
    char c = w[n - 1];
    return c != 'w' && c != 'x' && c != 'y';
}

static int ends(const char *w, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && memcmp(w + n - k, suffix, k) == 0;
}

/* Replace the suffix (known to be there) by repl. */
static void swap_suffix(char *w, size_t *n, const char *suffix, const char *repl)
{
    size_t k = strlen(suffix), r = strlen(repl);
    memcpy(w + *n - k, repl, r);
    *n = *n - k + r;
}

typedef struct rule {
    const char *suffix, *repl;
} rule;

/* Steps 2 and 3: the rule of the longest matching suffix applies when the
 * stem left has m > 0; no shorter suffix is tried after it. */
static void apply_m0(char *w, size_t *n, const rule *rules, size_t count)
{
    const rule *best = NULL;
    for (size_t i = 0; i < count; i++)
        if (ends(w, *n, rules[i].suffix) &&
            (!best || strlen(rules[i].suffix) > strlen(best->suffix)))
            best = &rules[i];
    if (best && measure(w, *n - strlen(best->suffix)) > 0)
        swap_suffix(w, n, best->suffix, best->repl);
}

static void step1ab(char *w, size_t *n)
{
    if (ends(w, *n, "sses"))
        *n -= 2;
    else if (ends(w, *n, "ies"))
        *n -= 2;
    else if (!ends(w, *n, "ss") && ends(w, *n, "s"))
        *n -= 1;

    int more = 0;
    if (ends(w, *n, "eed")) {
        if (measure(w, *n - 3) > 0)
            *n -= 1;
    } else if (ends(w, *n, "ed") && has_vowel(w, *n - 2)) {
        *n -= 2;
        more = 1;
    } else if (ends(w, *n, "ing") && has_vowel(w, *n - 3)) {
        *n -= 3;
        more = 1;
    }
    if (!more)
        return;
    if (ends(w, *n, "at") || ends(w, *n, "bl") || ends(w, *n, "iz")) {
        w[(*n)++] = 'e';
    } else if (double_consonant(w, *n)) {
        char c = w[*n - 1];
        /* Only an ASCII letter: two equal UTF-8 continuation bytes must
         * not be cut apart (SQLite would; no real word has them). */
        if (c != 'l' && c != 's' && c != 'z' && (unsigned char)c < 0x80)
            *n -= 1;
    } else if (measure(w, *n) == 1 && cvc(w, *n)) {
        w[(*n)++] = 'e';
    }
}

static void step1c(char *w, size_t *n)
{
    if (ends(w, *n, "y") && has_vowel(w, *n - 1))
        w[*n - 1] = 'i';
}

static void step2(char *w, size_t *n)
{
    static const rule rules[] = {
        {"ational", "ate"}, {"tional", "tion"}, {"enci", "ence"},   {"anci", "ance"},
        {"izer", "ize"},    {"bli", "ble"},     {"alli", "al"},     {"entli", "ent"},
        {"eli", "e"},       {"ousli", "ous"},   {"ization", "ize"}, {"ation", "ate"},
        {"ator", "ate"},    {"alism", "al"},    {"iveness", "ive"}, {"fulness", "ful"},
        {"ousness", "ous"}, {"aliti", "al"},    {"iviti", "ive"},   {"biliti", "ble"},
        {"logi", "log"},
    };
    apply_m0(w, n, rules, sizeof rules / sizeof rules[0]);
}

static void step3(char *w, size_t *n)
{
    static const rule rules[] = {
        {"icate", "ic"}, {"ative", ""}, {"alize", "al"}, {"iciti", "ic"},
        {"ical", "ic"},  {"ful", ""},   {"ness", ""},
    };
    apply_m0(w, n, rules, sizeof rules / sizeof rules[0]);
}

/* Step 4: drop the longest matching suffix when the stem left has m > 1
 * ("ion" only after s or t). */
static void step4(char *w, size_t *n)
{
    static const char *const suffixes[] = {
        "al",  "ance", "ence", "er",  "ic",  "able", "ible", "ant", "ement", "ment",
        "ent", "ion",  "ou",   "ism", "ate", "iti",  "ous",  "ive", "ize",
    };
    const char *best = NULL;
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++)
        if (ends(w, *n, suffixes[i]) && (!best || strlen(suffixes[i]) > strlen(best)))
            best = suffixes[i];
    if (!best)
        return;
    size_t stem = *n - strlen(best);
    if (measure(w, stem) <= 1)
        return;
    if (strcmp(best, "ion") == 0 && !(stem > 0 && (w[stem - 1] == 's' || w[stem - 1] == 't')))
        return;
    *n = stem;
}

static void step5(char *w, size_t *n)
{
    if (ends(w, *n, "e")) {
        int m = measure(w, *n - 1);
        if (m > 1 || (m == 1 && !cvc(w, *n - 1)))
            *n -= 1;
    }
    if (ends(w, *n, "ll") && measure(w, *n) > 1)
        *n -= 1;
}

void tx_porter(char *w, size_t *n)
{
    if (*n < 3 || *n > TX_STEM_MAX)
        return;
    step1ab(w, n);
    step1c(w, n);
    step2(w, n);
    step3(w, n);
    step4(w, n);
    step5(w, n);
}
