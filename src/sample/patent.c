/* patent.c - the particulars of one sample patent, and calendar arithmetic.
 *
 * Everything is drawn from generators seeded by (seed, index, stream), so
 * patent i is the same whatever thread makes it and however many patents
 * the week has.
 */
#include "sample/sample_internal.h"

#include <stdio.h>
#include <string.h>

enum { STREAM_META = 1, STREAM_SHAPE = 2 };

void sp_seed(ds_prng *r, uint64_t seed, int index, int stream)
{
    ds_prng_seed(r, seed);
    uint64_t a = ds_prng_next(r);
    ds_prng_seed(r, a ^ ((uint64_t)index + 1) * 0xD1B54A32D192ED03ull ^
                        ((uint64_t)stream + 1) * 0xABC98388FB8FAC03ull);
    (void)ds_prng_next(r);
}

/* ---- calendar -------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date, counting years from
 * March so that the leap day falls at the end. */
static long days_from(int y, int m, int d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

long sp_days(int ymd) { return days_from(ymd / 10000, ymd / 100 % 100, ymd % 100); }

int sp_ymd(long days)
{
    days += 719468;
    long era = (days >= 0 ? days : days - 146096) / 146097;
    long doe = days - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    long d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
    long y = yoe + era * 400 + (m <= 2);
    return (int)(y * 10000 + m * 100 + d);
}

int sp_date_valid(int ymd)
{
    if (ymd < 10000101 || ymd > 99991231)
        return 0;
    return sp_ymd(sp_days(ymd)) == ymd;
}

int sp_weekday(int ymd)
{
    long d = sp_days(ymd); /* 1970-01-01 was a Thursday */
    return (int)(((d % 7) + 7 + 4) % 7);
}

/* ---- numbers ----------------------------------------------------------------- */

#define REF_DATE 20221025
#define REF_NUMBER 967598
#define PER_WEEK 820 /* design grants a week, roughly, in the early 2020s */

int sp_first_number(int date)
{
    long weeks = (sp_days(date) - sp_days(REF_DATE)) / 7;
    long n = REF_NUMBER + weeks * PER_WEEK;
    return n < 100000 ? 100000 : n > 9000000 ? 9000000 : (int)n;
}

/* ---- views ---------------------------------------------------------------------- */

const char *sp_view_phrase(int kind)
{
    static const char *const phrases[V_COUNT] = {
        [V_PERSP_FRONT] = "a front perspective view",
        [V_PERSP_REAR] = "a rear perspective view",
        [V_FRONT] = "a front elevational view",
        [V_REAR] = "a rear elevational view",
        [V_LEFT] = "a left side elevational view",
        [V_RIGHT] = "a right side elevational view",
        [V_TOP] = "a top plan view",
        [V_BOTTOM] = "a bottom plan view",
    };
    return kind >= 0 && kind < V_COUNT ? phrases[kind] : "a view";
}

/* Which views a patent with n figures shows: the first n of this list, then
 * put in the usual order. */
static void pick_views(ds_prng *r, int n, sample_patent *p)
{
    static const int priority[V_COUNT] = {V_PERSP_FRONT, V_FRONT, V_RIGHT, V_TOP,
                                          V_REAR,        V_LEFT,  V_BOTTOM, V_PERSP_REAR};
    int shown[V_COUNT] = {0};
    for (int i = 0; i < n && i < V_COUNT; i++)
        shown[priority[i]] = 1;
    float az = sp_range(r, 25, 50) * (ds_prng_uniform(r) < 0.7f ? -1 : 1);
    float el = sp_range(r, 18, 32);
    p->nviews = 0;
    for (int k = 0; k < V_COUNT; k++) {
        if (!shown[k])
            continue;
        sm_view v = {0, 0, 0};
        switch (k) {
        case V_PERSP_FRONT: v = (sm_view){az, el, 1}; break;
        case V_PERSP_REAR: v = (sm_view){180 + az, el, 1}; break;
        case V_REAR: v.az = 180; break;
        case V_LEFT: v.az = 90; break;
        case V_RIGHT: v.az = -90; break;
        case V_TOP: v.el = 90; break;
        case V_BOTTOM: v.el = -90; break;
        default: break;
        }
        p->views[p->nviews] = k;
        p->cams[p->nviews] = v;
        p->nviews++;
    }
}

/* ---- parties ---------------------------------------------------------------------- */

static void pick_parties(ds_prng *r, sample_patent *p)
{
    float u = ds_prng_uniform(r);
    p->ninventors = u < 0.5f ? 1 : u < 0.85f ? 2 : 3;
    p->org_applicant = ds_prng_uniform(r) < 0.7f;
    if (p->org_applicant) {
        nm_place(r, &p->org_at);
        nm_company(r, p->family, p->org_at.country, p->org, sizeof p->org);
        /* Inventors work near their company, now and then abroad. */
        for (int i = 0; i < p->ninventors; i++) {
            sample_place where = p->org_at;
            int abroad = ds_prng_uniform(r) < 0.15f;
            if (abroad)
                nm_place(r, &where);
            nm_person(r, where.country, abroad ? NULL : i ? &p->inventors[0].at : &where,
                      &p->inventors[i]);
        }
    } else {
        sample_place where;
        nm_place(r, &where);
        for (int i = 0; i < p->ninventors; i++)
            nm_person(r, where.country, i ? &p->inventors[0].at : NULL, &p->inventors[i]);
        p->org[0] = '\0';
    }
    nm_law_firm(r, p->agent, sizeof p->agent);
    nm_examiner(r, &p->exam_first, &p->exam_last, &p->department);
}

/* Design patents granted before the application was filed, oldest first. */
static void pick_cites(ds_prng *r, sample_patent *p)
{
    int before = sp_first_number(p->filed) - 1;
    before = before < p->number - 1000 ? before : p->number - 1000;
    p->ncites = sp_int(r, 2, 6);
    for (int i = 0; i < p->ncites; i++) {
        int number = sp_int(r, before > 500000 ? before - 450000 : 50000, before);
        /* About 26,000 design patents a year in recent decades. */
        int year = p->filed / 10000 - (before - number) / 26000;
        p->cites[i] = (sample_cite){number, nm_surname(r), (year < 1950 ? 1950 : year) * 10000 +
                                                               sp_int(r, 1, 12) * 100};
    }
    for (int i = 1; i < p->ncites; i++) /* insertion sort by number */
        for (int j = i; j > 0 && p->cites[j].number < p->cites[j - 1].number; j--) {
            sample_cite t = p->cites[j];
            p->cites[j] = p->cites[j - 1];
            p->cites[j - 1] = t;
        }
}

void sp_patent_make(const sample_opts *o, int index, sample_patent *p)
{
    ds_prng r, shape;
    memset(p, 0, sizeof *p);
    sp_seed(&r, o->seed, index, STREAM_META);
    sp_seed(&shape, o->seed, index, STREAM_SHAPE);
    p->index = index;
    p->number = (o->first ? o->first : sp_first_number(o->date)) + index;
    snprintf(p->doc, sizeof p->doc, "D%07d", p->number);
    snprintf(p->stem, sizeof p->stem, "USD%07d-%08d", p->number, o->date);
    p->date = o->date;
    long days = sp_days(o->date);
    p->produced = sp_ymd(days - 20);
    long filed = days - sp_int(&r, 330, 1100);
    p->filed = sp_ymd(filed);
    /* Design application serials run 29/000,001 up; ~110 filed a day. */
    long serial = 600000 + (filed - sp_days(20180101)) * 110 + sp_int(&r, 0, 109);
    p->appl = 29000000 + (int)(serial < 1 ? 1 : serial > 999999 ? 999999 : serial);
    p->family = sp_int(&r, 0, sample_nfamilies - 1);
    p->variant = sp_int(&r, 0, sample_families[p->family].nvariants - 1);
    p->shape_seed = ds_prng_next(&shape);
    pick_views(&r, sp_int(&r, o->views_min, o->views_max), p);
    pick_parties(&r, p);
    pick_cites(&r, p);
}
