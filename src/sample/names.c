/* names.c - the people, companies and places of the sample patents.
 *
 * Small fixed lists, chosen so that the documents look like a real week of
 * design grants: mostly US parties, then China, Japan, Korea and Europe;
 * names that fit their country, some with accents (UTF-8) and apostrophes
 * or ampersands (XML escaping). Companies and law firms are made up by
 * combining invented words; any likeness to a real firm is chance.
 */
#include "sample/sample_internal.h"

#include <stdio.h>

#define COUNT(a) ((int)(sizeof a / sizeof a[0]))

/* Name groups. */
enum { EN, ZH, JA, KO, DE, FR, IT, NORDIC, NGROUPS };

typedef struct country {
    const char *code;
    int weight;             /* per hundred filings */
    int names;              /* name group */
    const char *cities[8];  /* NULL-terminated */
    const char *suffixes[4];
} country;

static const country countries[] = {
    {"US", 46, EN, {"Grand Rapids", "Portland", "Austin", "San Jose", "Seattle", "Chicago", "Columbus", "Brooklyn"}, {"Inc.", "LLC", "Corporation", "Co."}},
    {"CN", 18, ZH, {"Shenzhen", "Ningbo", "Guangzhou", "Hangzhou", "Dongguan", "Xiamen", "Foshan", NULL}, {"Co., Ltd.", "Co., Ltd.", "Technology Co., Ltd.", NULL}},
    {"JP", 7, JA, {"Tokyo", "Osaka", "Nagoya", "Kyoto", NULL}, {"Co., Ltd.", "Corporation", "Kabushiki Kaisha", NULL}},
    {"KR", 6, KO, {"Seoul", "Suwon-si", "Busan", NULL}, {"Co., Ltd.", "Corporation", NULL}},
    {"DE", 6, DE, {"München", "Stuttgart", "Hamburg", "Köln", NULL}, {"GmbH", "AG", "GmbH & Co. KG", NULL}},
    {"TW", 4, ZH, {"Taipei", "Taichung", "Hsinchu", NULL}, {"Co., Ltd.", "Corporation", NULL}},
    {"FR", 3, FR, {"Paris", "Lyon", "Grenoble", NULL}, {"SAS", "S.A.", NULL}},
    {"IT", 3, IT, {"Milano", "Torino", "Bologna", NULL}, {"S.p.A.", "S.r.l.", NULL}},
    {"GB", 3, EN, {"London", "Manchester", "Bristol", NULL}, {"Limited", "Ltd", NULL}},
    {"SE", 2, NORDIC, {"Stockholm", "Malmö", "Göteborg", NULL}, {"AB", NULL}},
    {"CH", 1, DE, {"Zürich", "Biel", "Genève", NULL}, {"AG", "SA", NULL}},
    {"DK", 1, NORDIC, {"København", "Aarhus", NULL}, {"A/S", NULL}},
};

/* US cities and their states, in the order of countries[0].cities. */
static const char *const us_states[] = {"MI", "OR", "TX", "CA", "WA", "IL", "OH", "NY"};

static const char *const firsts[NGROUPS][12] = {
    [EN] = {"James", "Mary", "Robert", "Jennifer", "Michael", "Linda", "David", "Elizabeth", "Daniel", "Sarah", "Kevin", "Megan"},
    [ZH] = {"Wei", "Fang", "Min", "Jing", "Lei", "Yan", "Jun", "Hui", "Xiaoming", "Zhiwei", "Chia-Hung", "Yu-Ting"},
    [JA] = {"Hiroshi", "Takashi", "Yuki", "Kenji", "Akiko", "Naoko", "Satoshi", "Haruka", "Daisuke", "Emi", "Kazuo", "Mai"},
    [KO] = {"Min-jun", "Seo-yeon", "Ji-hoon", "Hye-jin", "Dong-hyun", "Su-bin", "Jae-won", "Eun-ji", "Sung-ho", "Yoon", "Hyun-woo", "Da-eun"},
    [DE] = {"Lukas", "Anna", "Jürgen", "Katrin", "Matthias", "Sophie", "Stefan", "Jörg", "Felix", "Lena", "Tobias", "Hannah"},
    [FR] = {"Camille", "Léa", "Hugo", "Élodie", "Julien", "Mathieu", "Chloé", "Antoine", "Manon", "Théo", "Inès", "Louis"},
    [IT] = {"Marco", "Giulia", "Luca", "Chiara", "Alessandro", "Francesca", "Matteo", "Sara", "Davide", "Elena", "Paolo", "Marta"},
    [NORDIC] = {"Erik", "Åsa", "Lars", "Ingrid", "Johan", "Mette", "Nils", "Karin", "Søren", "Freja", "Anders", "Linnea"},
};

static const char *const lasts[NGROUPS][12] = {
    [EN] = {"Smith", "Johnson", "Williams", "Brown", "Miller", "Davis", "Wilson", "Anderson", "Taylor", "O'Brien", "Thompson", "Harris"},
    [ZH] = {"Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Lin", "Xu"},
    [JA] = {"Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura", "Kobayashi", "Kato", "Yoshida", "Yamada"},
    [KO] = {"Kim", "Lee", "Park", "Choi", "Jung", "Kang", "Cho", "Yoon", "Jang", "Lim", "Han", "Shin"},
    [DE] = {"Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Hoffmann", "Schäfer", "Koch", "Richter"},
    [FR] = {"Martin", "Bernard", "Dubois", "Lefèvre", "Moreau", "Laurent", "Simon", "Michel", "Garnier", "Rousseau", "Fontaine", "Chevalier"},
    [IT] = {"Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco", "Bruno", "Gallo"},
    [NORDIC] = {"Andersson", "Johansson", "Lindqvist", "Nielsen", "Jensen", "Karlsson", "Nilsson", "Hansen", "Eriksson", "Larsen", "Berg", "Dahl"},
};

/* Invented words for company names. */
static const char *const coined[] = {
    "Alder",    "Bluefield", "Brackwell", "Corvane",  "Dunmore",  "Elmstead", "Fairhaven",
    "Greyloch", "Halvern",   "Ironvale",  "Juniper",  "Kestrel",  "Larkspur", "Marlow",
    "Northwind", "Oakhurst", "Pellham",   "Quillon",  "Redfern",  "Saltmarsh", "Thornbury",
    "Umberly",  "Vantor",    "Westbrook", "Yarrow",   "Zephyrine",
};

static int count_cities(const country *c)
{
    int n = 0;
    while (n < 8 && c->cities[n])
        n++;
    return n;
}

static const country *country_of(const char *code)
{
    for (int i = 0; i < COUNT(countries); i++)
        if (code[0] == countries[i].code[0] && code[1] == countries[i].code[1])
            return &countries[i];
    return &countries[0];
}

static void place_in(ds_prng *r, const country *c, sample_place *out)
{
    int k = sp_int(r, 0, count_cities(c) - 1);
    out->city = c->cities[k];
    out->state = c == &countries[0] ? us_states[k] : NULL;
    out->country = c->code;
}

void nm_place(ds_prng *r, sample_place *out)
{
    int total = 0, pick;
    for (int i = 0; i < COUNT(countries); i++)
        total += countries[i].weight;
    pick = sp_int(r, 0, total - 1);
    for (int i = 0; i < COUNT(countries); i++) {
        if (pick < countries[i].weight) {
            place_in(r, &countries[i], out);
            return;
        }
        pick -= countries[i].weight;
    }
    place_in(r, &countries[0], out);
}

void nm_person(ds_prng *r, const char *code, const sample_place *near, sample_person *out)
{
    const country *c = country_of(code);
    out->first = firsts[c->names][sp_int(r, 0, 11)];
    out->last = lasts[c->names][sp_int(r, 0, 11)];
    /* Co-inventors mostly live near each other. */
    if (near && ds_prng_uniform(r) < 0.7f)
        out->at = *near;
    else
        place_in(r, c, &out->at);
}

void nm_company(ds_prng *r, int f, const char *code, char *buf, size_t n)
{
    const country *c = country_of(code);
    int ns = 0;
    while (ns < 4 && c->suffixes[ns])
        ns++;
    const char *word = coined[sp_int(r, 0, COUNT(coined) - 1)];
    const char *trade = sample_families[f].trade[sp_int(r, 0, 2)];
    const char *suffix = c->suffixes[sp_int(r, 0, ns - 1)];
    if (ds_prng_uniform(r) < 0.15f)
        snprintf(buf, n, "%s & %s %s %s", word, lasts[c->names][sp_int(r, 0, 11)], trade, suffix);
    else
        snprintf(buf, n, "%s %s %s", word, trade, suffix);
}

void nm_law_firm(ds_prng *r, char *buf, size_t n)
{
    const char *a = lasts[EN][sp_int(r, 0, 11)], *b = lasts[EN][sp_int(r, 0, 11)];
    switch (sp_int(r, 0, 2)) {
    case 0: snprintf(buf, n, "%s & %s LLP", a, b); break;
    case 1: snprintf(buf, n, "%s %s P.C.", a, b); break;
    default: snprintf(buf, n, "%s IP Law Group", a); break;
    }
}

void nm_examiner(ds_prng *r, const char **first, const char **last, int *department)
{
    *first = firsts[EN][sp_int(r, 0, 11)];
    *last = lasts[EN][sp_int(r, 0, 11)];
    *department = 2911 + sp_int(r, 0, 8);
}

const char *nm_surname(ds_prng *r)
{
    int g = ds_prng_uniform(r) < 0.6f ? EN : sp_int(r, 0, NGROUPS - 1);
    return lasts[g][sp_int(r, 0, 11)];
}
