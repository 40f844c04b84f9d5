/* token.c - the tokenizer and case fold of text.h: FTS5 unicode61 with
 * remove_diacritics 2, for the code points text.h names. */
#include "text/text.h"

#include <stdint.h>
#include <string.h>

#include "text/fold_latin.h"

/* Decode one UTF-8 code point at s[*i] (len bytes in all), advancing *i.
 * Returns the code point, or -1 for a malformed or overlong sequence (*i
 * then moves one byte on). */
static int32_t utf8_next(const unsigned char *s, size_t len, size_t *i)
{
    unsigned char c = s[*i];
    if (c < 0x80) {
        (*i)++;
        return c;
    }
    int n = (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : -1;
    if (n < 0 || len - *i <= (size_t)n) {
        (*i)++;
        return -1;
    }
    int32_t cp = c & (0x3f >> n);
    for (int k = 1; k <= n; k++) {
        unsigned char d = s[*i + (size_t)k];
        if ((d & 0xc0) != 0x80) {
            (*i)++;
            return -1;
        }
        cp = cp << 6 | (d & 0x3f);
    }
    static const int32_t least[4] = {0, 0x80, 0x800, 0x10000};
    if (cp < least[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        (*i)++;
        return -1;
    }
    *i += (size_t)n + 1;
    return cp;
}

/* The combining marks unicode61 drops with remove_diacritics (the word
 * goes on across them); the other marks of U+0300..U+036F separate. */
static int dropped_mark(int32_t cp)
{
    return (cp >= 0x300 && cp <= 0x304) || (cp >= 0x306 && cp <= 0x30c) || cp == 0x30f ||
           cp == 0x311 || cp == 0x31b || (cp >= 0x323 && cp <= 0x328) || cp == 0x32d ||
           cp == 0x32e || cp == 0x330 || cp == 0x331;
}

/* Blocks of punctuation, symbols and emoji: separators. */
static int separator_block(int32_t cp)
{
    return (cp >= 0x300 && cp <= 0x36f) || (cp >= 0x2000 && cp <= 0x206f) ||
           (cp >= 0x20a0 && cp <= 0x20cf) || (cp >= 0x2190 && cp <= 0x2bff) ||
           (cp >= 0x3000 && cp <= 0x3003) || (cp >= 0x3008 && cp <= 0x3020) ||
           (cp >= 0xfe00 && cp <= 0xfe0f) || (cp >= 0xfe30 && cp <= 0xfe6f) ||
           (cp >= 0xff00 && cp <= 0xff0f) || (cp >= 0xff1a && cp <= 0xff20) ||
           (cp >= 0xfff0 && cp <= 0xffff) || (cp >= 0x1f000 && cp <= 0x1faff) ||
           (cp >= 0xe0000 && cp <= 0xe007f);
}

/* What cp becomes inside a token: its folded code point, 0 when it
 * separates tokens, -2 when it is dropped without ending the token. */
static int32_t fold(int32_t cp)
{
    if (cp < 0)
        return 0;
    if (cp < 0x80) {
        if (cp >= 'A' && cp <= 'Z')
            return cp + 32;
        if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9'))
            return cp;
        return 0;
    }
    if (cp < 0x180)
        return fold_latin[cp - 0x80];
    if (dropped_mark(cp))
        return -2;
    if (separator_block(cp))
        return 0;
    if ((cp >= 0x391 && cp <= 0x3a9 && cp != 0x3a2) || (cp >= 0x410 && cp <= 0x42f))
        return cp + 32;
    if (cp >= 0x400 && cp <= 0x40f)
        return cp + 80;
    return cp;
}

static size_t utf8_put(char *out, int32_t cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* A token longer than this is cut: FTS5 indexes the whole token, but no
 * design patent has one this long and the buffer stays on the stack. The
 * rest of an overlong token is skipped, so a term is never split in two. */
enum { TOKEN_MAX = 256 };

int tx_tokenize(const char *text, size_t len, int stem, tx_term_fn fn, void *ctx)
{
    const unsigned char *s = (const unsigned char *)text;
    char buf[TOKEN_MAX + 4];
    size_t n = 0, start = 0, end = 0, i = 0;
    int in_token = 0;
    while (i <= len) {
        size_t at = i;
        int32_t f = 0;
        if (i < len) {
            int32_t cp = s[i] == 0 ? (i++, -1) : utf8_next(s, len, &i);
            f = fold(cp);
        } else {
            i++; /* the end: closes a token still open */
        }
        if (f == -2)
            continue; /* a dropped mark: the token goes on (or none starts) */
        if (f > 0) {
            if (!in_token) {
                in_token = 1;
                n = 0;
                start = at;
            }
            if (n <= TOKEN_MAX - 4)
                n += utf8_put(buf + n, f);
            end = i;
            continue;
        }
        if (in_token) {
            in_token = 0;
            if (stem)
                tx_porter(buf, &n);
            int rc = fn(buf, n, start, end, ctx);
            if (rc)
                return rc;
        }
    }
    return 0;
}

static int count_one(const char *term, size_t n, size_t start, size_t end, void *ctx)
{
    (void)term, (void)n, (void)start, (void)end;
    size_t *left = ctx;
    return --*left == 0;
}

size_t tx_count_tokens(const char *text, size_t len, size_t max)
{
    if (max == 0)
        return 0;
    size_t left = max;
    tx_tokenize(text, len, 0, count_one, &left);
    return max - left;
}
