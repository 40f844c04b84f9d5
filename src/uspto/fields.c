/* fields.c - raw values as the documents print them, made into the seed's
 * forms: ISO dates, "NN-NN" Locarno classes, years, names, the grant type. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uspto/uspto_internal.h"

static int all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

char *us__iso_date(us_x *x, const char *raw)
{
    if (!raw || strlen(raw) != 8 || !all_digits(raw, 8))
        return NULL;
    int year = atoi(raw) / 10000, month = (raw[4] - '0') * 10 + (raw[5] - '0'),
        day = (raw[6] - '0') * 10 + (raw[7] - '0');
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (month < 1 || month > 12 || day < 1 || day > days[month - 1] ||
        (month == 2 && day == 29 && !leap))
        return NULL; /* citations carry "19840300": a month, not a day */
    char iso[11];
    snprintf(iso, sizeof iso, "%.4s-%.2s-%.2s", raw, raw + 4, raw + 6);
    return us__dup(x, iso);
}

char *us__locarno(us_x *x, const char *raw)
{
    if (!raw)
        return NULL;
    /* Up to two runs of digits, split by spaces or one '-'. */
    char run[2][8];
    int runs = 0;
    size_t k = 0;
    const char *p = raw;
    for (; *p && runs < 2; p++) {
        if (isdigit((unsigned char)*p)) {
            if (k + 1 >= sizeof run[0])
                break;
            run[runs][k++] = *p;
            run[runs][k] = '\0';
        } else if (*p == ' ' || *p == '-') {
            if (k)
                runs++, k = 0;
        } else
            break;
    }
    if (k)
        runs++;
    char a[3] = "00", b[3] = "00"; /* class and subclass, two digits each */
    size_t n0 = runs ? strlen(run[0]) : 0, n1 = runs == 2 ? strlen(run[1]) : 0;
    if (*p == '\0' && runs == 1 && (n0 == 4 || n0 == 3)) {
        /* "0101" or, with its leading zero lost, "301" */
        memcpy(a + (4 - n0), run[0], n0 - 2);
        memcpy(b, run[0] + (n0 - 2), 2);
    } else if (*p == '\0' && runs == 2 && n0 <= 2 && n1 <= 2) {
        memcpy(a + (2 - n0), run[0], n0);
        memcpy(b + (2 - n1), run[1], n1);
    } else
        return us__dup(x, raw); /* not a form we know: kept as printed */
    char out[6] = {a[0], a[1], '-', b[0], b[1], '\0'};
    return us__dup(x, out);
}

int us__years(const char *raw)
{
    if (!raw || !isdigit((unsigned char)raw[0]))
        return 0;
    long v = strtol(raw, NULL, 10);
    return v > 0 && v < 1000 ? (int)v : 0;
}

int us__country_ok(const char *s)
{
    return s && strlen(s) == 2 && isupper((unsigned char)s[0]) && isupper((unsigned char)s[1]);
}

char *us__person(us_x *x, const char *first, const char *last)
{
    if (!first || !last)
        return us__dup(x, first ? first : last);
    size_t n = strlen(first) + strlen(last) + 2;
    char *s = malloc(n);
    if (!s) {
        x->oom = 1;
        return NULL;
    }
    snprintf(s, n, "%s %s", first, last);
    return s;
}

us_type us__type(const char *kind, const char *appl_type)
{
    char k = kind ? (char)toupper((unsigned char)kind[0]) : '\0';
    const char *a = appl_type ? appl_type : "";
    if (k == 'S' || strcmp(a, "design") == 0)
        return US_DESIGN;
    if (k == 'E' || strcmp(a, "reissue") == 0)
        return US_REISSUE;
    if (k == 'P' || strcmp(a, "plant") == 0)
        return US_PLANT;
    if (k == 'B' || k == 'A' || strcmp(a, "utility") == 0)
        return US_UTILITY;
    return US_OTHER; /* H (SIR), I (defensive publication), ... */
}
