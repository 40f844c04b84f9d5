/* test_fusion.c - merging ranked lists (src/engine/fusion.c): the arithmetic
 * of each method, the order of ties, repeated keys, and bad parameters;
 * then random lists checked against a plain recomputation. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/prng.h"
#include "engine/fusion.h"
#include "../suites.h"

#define LEG(arr, w) ((fuse_leg){(arr), (int)(sizeof(arr) / sizeof((arr)[0])), (w)})

static int find(const fuse_result *r, int n, const char *key)
{
    for (int i = 0; i < n; i++)
        if (strcmp(r[i].key, key) == 0)
            return i;
    return -1;
}

static void test_rrf_two_legs(void)
{
    fuse_hit img[] = {{"a", 0.9}, {"b", 0.8}, {"c", 0.7}};
    fuse_hit txt[] = {{"c", 12.0}, {"a", 7.5}, {"d", 1.0}};
    fuse_leg legs[] = {LEG(img, 1), LEG(txt, 1)};
    fuse_result *r;
    int n;
    ds_err err = {0};
    CHECK(fuse(legs, 2, FUSE_RRF, 60, &r, &n, &err) == 0);
    CHECK(n == 4);
    if (n != 4)
        return;
    /* a: 1/61 + 1/62, c: 1/63 + 1/61, b: 1/62, d: 1/63 */
    CHECK(strcmp(r[0].key, "a") == 0 && strcmp(r[1].key, "c") == 0);
    CHECK(strcmp(r[2].key, "b") == 0 && strcmp(r[3].key, "d") == 0);
    CHECK(fabs(r[0].score - (1.0 / 61 + 1.0 / 62)) < 1e-12);
    CHECK(fabs(r[1].score - (1.0 / 61 + 1.0 / 63)) < 1e-12);
    CHECK(r[0].rank[0] == 1 && r[0].rank[1] == 2 && r[0].index[0] == 0 && r[0].index[1] == 1);
    CHECK(r[2].rank[1] == 0 && r[2].index[1] == -1);
    CHECK(r[3].rank[0] == 0 && r[3].rank[1] == 3 && r[3].index[1] == 2);
    CHECK(r[1].best_rank == 1 && r[1].best_leg == 1);
    free(r);

    /* A weight moves a leg's votes: with the words weighing 3, c leads. */
    legs[1].weight = 3;
    CHECK(fuse(legs, 2, FUSE_RRF, 60, &r, &n, &err) == 0);
    CHECK(n == 4 && strcmp(r[0].key, "c") == 0);
    free(r);
    /* rrf_k shapes how fast votes fall off with rank. */
    legs[1].weight = 1;
    CHECK(fuse(legs, 2, FUSE_RRF, 1, &r, &n, &err) == 0);
    CHECK(n == 4 && fabs(r[0].score - (1.0 / 2 + 1.0 / 3)) < 1e-12);
    free(r);
}

static void test_ties_are_ordered(void)
{
    /* Same fused score and the same best rank: the earlier leg first, then
     * the key's bytes; whatever order the legs list them in. */
    fuse_hit l0[] = {{"y", 1}, {"q", 0.5}};
    fuse_hit l1[] = {{"x", 1}, {"p", 0.5}};
    fuse_leg legs[] = {LEG(l0, 1), LEG(l1, 1)};
    fuse_result *r;
    int n;
    ds_err err = {0};
    CHECK(fuse(legs, 2, FUSE_RRF, 60, &r, &n, &err) == 0);
    CHECK(n == 4);
    if (n == 4) {
        CHECK(strcmp(r[0].key, "y") == 0 && strcmp(r[1].key, "x") == 0);
        CHECK(strcmp(r[2].key, "q") == 0 && strcmp(r[3].key, "p") == 0);
    }
    free(r);
    /* One leg, equal scores, FUSE_SCORE: the ranks decide, not the keys. */
    fuse_hit same[] = {{"b", 0.5}, {"a", 0.5}};
    fuse_leg one = LEG(same, 1);
    CHECK(fuse(&one, 1, FUSE_SCORE, 0, &r, &n, &err) == 0);
    CHECK(n == 2 && strcmp(r[0].key, "b") == 0);
    free(r);
    /* Across legs, equal scores and ranks: the earlier leg. */
    fuse_hit c0[] = {{"m", 0.7}};
    fuse_hit c1[] = {{"a", 0.7}};
    fuse_leg two[] = {LEG(c0, 1), LEG(c1, 1)};
    CHECK(fuse(two, 2, FUSE_SCORE, 0, &r, &n, &err) == 0);
    CHECK(n == 2 && strcmp(r[0].key, "m") == 0);
    free(r);
}

static void test_repeated_key_counts_once(void)
{
    fuse_hit l0[] = {{"a", 0.9}, {"a", 0.8}, {"b", 0.7}};
    fuse_leg leg = LEG(l0, 1);
    fuse_result *r;
    int n;
    ds_err err = {0};
    CHECK(fuse(&leg, 1, FUSE_RRF, 60, &r, &n, &err) == 0);
    CHECK(n == 2);
    int b = find(r, n, "b");
    CHECK(b >= 0 && r[b].rank[0] == 2 && r[b].index[0] == 2); /* not pushed to 3 */
    int a = find(r, n, "a");
    CHECK(a >= 0 && r[a].index[0] == 0 && fabs(r[a].score - 1.0 / 61) < 1e-12);
    free(r);
}

static void test_weighted(void)
{
    fuse_hit img[] = {{"a", 0.9}, {"b", 0.5}, {"c", 0.1}};
    fuse_hit txt[] = {{"c", 10}, {"b", 5}};
    fuse_leg legs[] = {LEG(img, 0.5), LEG(txt, 0.5)};
    fuse_result *r;
    int n;
    ds_err err = {0};
    CHECK(fuse(legs, 2, FUSE_WEIGHTED, 60, &r, &n, &err) == 0);
    CHECK(n == 3);
    if (n == 3) {
        /* a: .5*1 + 0; c: .5*0 + .5*1; b: .5*.5 + .5*0; a and c tie, rank 1
         * each: the image leg's comes first. */
        CHECK(strcmp(r[0].key, "a") == 0 && fabs(r[0].score - 0.5) < 1e-12);
        CHECK(strcmp(r[1].key, "c") == 0 && fabs(r[1].score - 0.5) < 1e-12);
        CHECK(strcmp(r[2].key, "b") == 0 && fabs(r[2].score - 0.25) < 1e-12);
    }
    free(r);
    /* A leg weighted 0 does not break the other's ties: b and a tie on the
     * words, the picture ranks a first, the words b: b stays first. */
    fuse_hit pic[] = {{"a", 0.9}, {"b", 0.1}};
    fuse_hit wrd[] = {{"b", 3}, {"a", 3}, {"c", 1}};
    fuse_leg zero[] = {LEG(pic, 0), LEG(wrd, 1)};
    CHECK(fuse(zero, 2, FUSE_WEIGHTED, 60, &r, &n, &err) == 0);
    CHECK(n == 3 && strcmp(r[0].key, "b") == 0 && strcmp(r[1].key, "a") == 0);
    free(r);
    /* All of a leg's scores equal: each counts fully. */
    fuse_hit flat[] = {{"a", 3}, {"b", 3}};
    fuse_leg one = LEG(flat, 0.7);
    CHECK(fuse(&one, 1, FUSE_WEIGHTED, 60, &r, &n, &err) == 0);
    CHECK(n == 2 && fabs(r[0].score - 0.7) < 1e-12 && fabs(r[1].score - 0.7) < 1e-12);
    free(r);
}

static void test_score_takes_the_best(void)
{
    fuse_hit c1[] = {{"x", 0.8}, {"y", 0.3}};
    fuse_hit c2[] = {{"y", 0.9}, {"z", 0.2}};
    fuse_leg legs[] = {LEG(c1, 1), LEG(c2, 1)};
    fuse_result *r;
    int n;
    ds_err err = {0};
    CHECK(fuse(legs, 2, FUSE_SCORE, 0, &r, &n, &err) == 0);
    CHECK(n == 3);
    if (n == 3) {
        CHECK(strcmp(r[0].key, "y") == 0 && r[0].score == 0.9);
        CHECK(strcmp(r[1].key, "x") == 0 && strcmp(r[2].key, "z") == 0);
    }
    free(r);
}

static void test_bad_parameters(void)
{
    fuse_hit ok[] = {{"a", 1}};
    fuse_hit nan_hit[] = {{"a", NAN}};
    fuse_hit no_key[] = {{NULL, 1}};
    fuse_leg leg = LEG(ok, 1);
    fuse_result *r = (fuse_result *)1;
    int n = 5;
    ds_err err = {0};
    CHECK(fuse(&leg, 1, FUSE_RRF, 0, &r, &n, &err) == -1 && err.code == DS_EINVAL);
    CHECK_MSG(err, "rrf_k");
    CHECK(r == NULL && n == 0);
    CHECK(fuse(&leg, 0, FUSE_RRF, 60, &r, &n, &err) == -1 && err.code == DS_EINVAL);
    CHECK(fuse(&leg, FUSE_MAX_LEGS + 1, FUSE_RRF, 60, &r, &n, &err) == -1);
    CHECK(fuse(&leg, 1, (fuse_method)9, 60, &r, &n, &err) == -1);
    leg.weight = -1;
    CHECK(fuse(&leg, 1, FUSE_RRF, 60, &r, &n, &err) == -1);
    CHECK_MSG(err, "weight");
    leg.weight = INFINITY;
    CHECK(fuse(&leg, 1, FUSE_RRF, 60, &r, &n, &err) == -1);
    fuse_leg bad = LEG(nan_hit, 1);
    CHECK(fuse(&bad, 1, FUSE_SCORE, 0, &r, &n, &err) == -1);
    CHECK_MSG(err, "NaN");
    bad = LEG(no_key, 1);
    CHECK(fuse(&bad, 1, FUSE_SCORE, 0, &r, &n, &err) == -1);
    CHECK_MSG(err, "no key");
    fuse_leg empty = {NULL, 0, 1};
    fuse_leg empties[] = {empty, empty};
    CHECK(fuse(empties, 2, FUSE_RRF, 60, &r, &n, &err) == 0 && r == NULL && n == 0);

    fuse_method m;
    CHECK(fuse_method_parse("rrf", &m) == 0 && m == FUSE_RRF);
    CHECK(fuse_method_parse("weighted", &m) == 0 && m == FUSE_WEIGHTED);
    CHECK(fuse_method_parse("score", &m) == 0 && m == FUSE_SCORE);
    CHECK(fuse_method_parse("RRF ", &m) == -1 && fuse_method_parse(NULL, &m) == -1);
    CHECK(strcmp(fuse_method_name(FUSE_WEIGHTED), "weighted") == 0);
}

/* Random legs drawn from a small key space (so keys meet and repeat),
 * fused, and each result's RRF score recomputed the plain way. */
static void test_random_against_plain(void)
{
    static char names[64][16];
    for (int i = 0; i < 64; i++)
        snprintf(names[i], sizeof names[i], "k%02d", i);
    ds_prng rng;
    ds_prng_seed(&rng, 17);
    for (int round = 0; round < 200; round++) {
        int n_legs = 1 + (int)(ds_prng_next(&rng) % 4);
        fuse_hit hits[4][40];
        fuse_leg legs[4];
        for (int l = 0; l < n_legs; l++) {
            int n = (int)(ds_prng_next(&rng) % 41);
            for (int i = 0; i < n; i++)
                hits[l][i] = (fuse_hit){names[ds_prng_next(&rng) % 64], 1.0 - i * 0.01};
            legs[l] = (fuse_leg){hits[l], n, 1.0 + (double)(ds_prng_next(&rng) % 3)};
        }
        int k = 1 + (int)(ds_prng_next(&rng) % 100);
        fuse_result *r;
        int n;
        ds_err err = {0};
        if (fuse(legs, n_legs, FUSE_RRF, k, &r, &n, &err) != 0) {
            CHECKF(0, "round %d: %s", round, err.msg);
            return;
        }
        for (int i = 0; i < n; i++) {
            CHECK(find(r, n, r[i].key) == i); /* each key once */
            if (i > 0)
                CHECK(r[i - 1].score >= r[i].score);
            double want = 0;
            for (int l = 0; l < n_legs; l++) {
                int rank = 0, seen_before = 0;
                for (int h = 0; h < legs[l].n; h++) {
                    int first = 1;
                    for (int e = 0; e < h; e++)
                        first &= strcmp(legs[l].hits[e].key, legs[l].hits[h].key) != 0;
                    rank += first;
                    if (first && strcmp(legs[l].hits[h].key, r[i].key) == 0) {
                        want += legs[l].weight / (k + rank);
                        seen_before = 1;
                        break;
                    }
                }
                CHECK((r[i].rank[l] != 0) == seen_before);
            }
            CHECKF(fabs(r[i].score - want) < 1e-12, "round %d key %s: %g != %g", round,
                   r[i].key, r[i].score, want);
        }
        /* every key of every leg is in the results */
        for (int l = 0; l < n_legs; l++)
            for (int h = 0; h < legs[l].n; h++)
                CHECK(find(r, n, legs[l].hits[h].key) >= 0);
        free(r);
        if (ds_test_failed)
            return;
    }
}

const ds_test fusion_tests[] = {
    {"fusion_rrf_two_legs", test_rrf_two_legs},
    {"fusion_ties_are_ordered", test_ties_are_ordered},
    {"fusion_repeated_key_counts_once", test_repeated_key_counts_once},
    {"fusion_weighted", test_weighted},
    {"fusion_score_takes_the_best", test_score_takes_the_best},
    {"fusion_bad_parameters", test_bad_parameters},
    {"fusion_random_against_plain", test_random_against_plain},
    {0},
};
