/* search.c - `dinoseek search`, `dinoseek stats` and `dinoseek add`: the
 * engine from the shell, JSON out (the same shapes as the HTTP API's data). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/file.h"
#include "cmd/commands.h"
#include "cmd/common.h"
#include "engine/fusion.h"

static void print_json(json_t *doc)
{
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (text)
        printf("%s\n", text);
    free(text);
}

static const char search_usage[] =
    "usage: dinoseek search [IMAGE] [--q WORDS] [--top-k N] [--min-score S]\n"
    "                       [--group-by-patent] [--filter KEY=VALUE]...\n"
    "                       [--fusion rrf|weighted] [--rrf-k K] [--window N]\n"
    "                       [--alpha A] [--explain] [engine options]\n"
    "\n"
    "The most similar stored images (or patents, with --group-by-patent), as JSON.\n"
    "--q searches by words (docs/api.md gives the language: \"office chair\", lamp*,\n"
    "OR, -word, title:, claim:, applicant:, assignee:, inventor:, patent:, loc:),\n"
    "alone or with IMAGE: then the two rankings are fused (rank fusion, k 60, each\n"
    "the best --window 100 patents; or --fusion weighted with --alpha, the\n"
    "picture's weight). Word searches answer patents.\n"
    "Filter keys: loc_class (12 or 12-08), pub_date_from, pub_date_to,\n"
    "filing_date_from, filing_date_to (yyyy-mm-dd), applicant, assignee, inventor\n"
    "(substrings), applicant_country, patent_id (repeatable).\n"
    "--collection a,b searches several collections at once (at most 16; a name\n"
    "that exists whole, comma and all, is that one): each result names its\n"
    "\"collection\"; the lists are merged by score when every collection has the\n"
    "same model and the search is by picture alone, else by rank fusion (RRF,\n"
    "k 60). The first is opened with --model, the others need theirs loaded\n"
    "(the same model, or --collection-model NAME=DIR).\n\n";

/* Apply one --filter KEY=VALUE. */
static int add_filter(cat_filter *f, const char **ids, char *kv)
{
    char *eq = strchr(kv, '=');
    if (!eq)
        return -1;
    *eq = '\0';
    const char *v = eq + 1;
    const struct {
        const char *key;
        const char **dst;
    } keys[] = {{"loc_class", &f->loc_class}, {"pub_date_from", &f->pub_date_from},
                {"pub_date_to", &f->pub_date_to}, {"filing_date_from", &f->filing_date_from},
                {"filing_date_to", &f->filing_date_to}, {"applicant", &f->applicant},
                {"assignee", &f->assignee}, {"inventor", &f->inventor},
                {"applicant_country", &f->applicant_country}};
    if (strcmp(kv, "loc_class") == 0 && *v && !ds_loc_class_valid(v))
        return -2; /* "6" would match nothing, as if class 06 were empty */
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp(kv, keys[i].key) == 0) {
            *keys[i].dst = v;
            return 0;
        }
    if (strcmp(kv, "patent_id") == 0 && f->n_patent_ids < 64) {
        ids[f->n_patent_ids++] = v;
        f->patent_ids = ids;
        return 0;
    }
    return -1;
}

int cmd_search(int argc, char **argv)
{
    static const struct option opts[] = {
        CMD_ENGINE_LONG_OPTIONS,
        {"config", required_argument, 0, 'C'},
        {"top-k", required_argument, 0, 'k'},    {"min-score", required_argument, 0, 's'},
        {"group-by-patent", no_argument, 0, 'g'}, {"filter", required_argument, 0, 'f'},
        {"q", required_argument, 0, 'q'},        {"fusion", required_argument, 0, 'F'},
        {"rrf-k", required_argument, 0, 'K'},    {"window", required_argument, 0, 'W'},
        {"alpha", required_argument, 0, 'A'},    {"explain", no_argument, 0, 'X'},
        {"help", no_argument, 0, 'h'},           {0, 0, 0, 0}};
    cmd_engine_opts eo;
    if (cmd_config_load(argc, argv, cmd_known_settings, "search") != 0)
        return 2;
    if (cmd_engine_defaults(&eo) != 0)
        return 2;
    eng_query q = {.top_k = 10};
    const char *ids[64];
    int c, index;
    char *end;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, &index)) != -1) {
        switch (c) {
        case 1:
            if (cmd_engine_option(&eo, "search", opts[index].name, optarg) < 0)
                return 2;
            break;
        case 'k':
            q.top_k = (int)strtol(optarg, &end, 10);
            if (*end || q.top_k < 1 || q.top_k > 1000) {
                fprintf(stderr, "dinoseek search: --top-k must be from 1 to 1000\n");
                return 2;
            }
            break;
        case 's':
            q.min_score = strtof(optarg, &end);
            if (*end || q.min_score < -1 || q.min_score > 1) {
                fprintf(stderr, "dinoseek search: --min-score must be from -1 to 1\n");
                return 2;
            }
            break;
        case 'g': q.group_by_patent = 1; break;
        case 'q': q.text = optarg; break;
        case 'X': q.explain = 1; break;
        case 'F': {
            fuse_method m;
            if (fuse_method_parse(optarg, &m) != 0 || m == FUSE_SCORE) {
                fprintf(stderr, "dinoseek search: --fusion must be rrf or weighted\n");
                return 2;
            }
            q.fusion = (int)m;
            break;
        }
        case 'K':
        case 'W': {
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > ENG_MAX_GROUPED) {
                fprintf(stderr, "dinoseek search: --%s must be from 1 to %d\n",
                        c == 'K' ? "rrf-k" : "window", ENG_MAX_GROUPED);
                return 2;
            }
            *(c == 'K' ? &q.rrf_k : &q.window) = (int)v;
            break;
        }
        case 'A':
            q.alpha = strtof(optarg, &end);
            if (*end || !(q.alpha >= 0 && q.alpha <= 1)) {
                fprintf(stderr, "dinoseek search: --alpha must be from 0 to 1\n");
                return 2;
            }
            q.alpha_set = 1;
            break;
        case 'C': break; /* read before the flags */
        case 'f':
            switch (add_filter(&q.filter, ids, optarg)) {
            case 0: break;
            case -2:
                fprintf(stderr, "dinoseek search: loc_class must be a Locarno class, "
                                "\"12\" or \"12-08\"\n");
                return 2;
            default: fprintf(stderr, "dinoseek search: unknown filter '%s'\n", optarg); return 2;
            }
            break;
        case 'h': printf("%s%s", search_usage, cmd_engine_help); return 0;
        default: fprintf(stderr, "%s%s", search_usage, cmd_engine_help); return 2;
        }
    }
    int words = q.text && *q.text;
    if (optind != argc - 1 && !(words && optind == argc)) {
        fprintf(stderr, "dinoseek search: name one image, or words with --q (or both)\n");
        return 2;
    }
    void *data = NULL;
    if (optind < argc && !(data = ds_read_file(argv[optind], &q.len))) {
        fprintf(stderr, "dinoseek search: cannot read %s\n", argv[optind]);
        return 1;
    }
    q.data = data;
    q.collection = eo.cfg.collection;
    /* --collection a,b: the engine opens with the first as its default
     * (made with --model); the others are attached with their models
     * (the same model, or --collection-model NAME=DIR). */
    char first[256];
    const char *comma = q.collection ? strchr(q.collection, ',') : NULL;
    if (comma) {
        const char *a = q.collection, *b = comma;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        snprintf(first, sizeof first, "%.*s", (int)(b - a), a);
        eo.cfg.collection = first;
    }
    eng *e = cmd_open_engine(&eo, "search");
    json_t *results = NULL;
    eng_timing t = {0};
    ds_err err = {0};
    int rc = 1;
    if (e && eng_search(e, &q, &results, &t, &err) != 0)
        fprintf(stderr, "dinoseek search: %s\n", err.msg);
    else if (e) {
        json_t *doc = json_pack("{s:o,s:I,s:{s:f,s:f,s:f,s:f}}", "results", results, "total",
                                (json_int_t)json_array_size(results), "timing", "decode_ms",
                                t.decode_ms, "embed_ms", t.embed_ms, "search_ms", t.search_ms,
                                "total_ms", t.total_ms);
        json_object_set_new(doc, "mode", json_string(!words ? "image" : data ? "hybrid" : "words"));
        eng_names names = {0};
        if (eng_search_collections(e, q.collection, &names, &err) == 0) {
            json_t *searched = json_array();
            for (int i = 0; i < names.n; i++)
                json_array_append_new(searched, json_string(names.name[i]));
            json_object_set_new(doc, "collections", searched);
        }
        if (t.merged_by)
            json_object_set_new(doc, "collections_merged_by", json_string(t.merged_by));
        if (words) {
            json_object_set_new(doc, "text_matches", json_integer(t.text_matches));
            json_object_set_new(json_object_get(doc, "timing"), "text_ms", json_real(t.text_ms));
        }
        print_json(doc);
        json_decref(doc);
        rc = 0;
    }
    eng_close(e);
    free(data);
    return rc;
}

/* stats and add take only the engine options (and add its images). */
static int engine_only_args(int argc, char **argv, const char *cmd, const char *usage,
                            cmd_engine_opts *eo, const char **patent_id)
{
    static const struct option opts[] = {
        CMD_ENGINE_LONG_OPTIONS,
        {"config", required_argument, 0, 'C'},
        {"patent-id", required_argument, 0, 'p'}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    int c, index;
    if (cmd_config_load(argc, argv, cmd_known_settings, cmd) != 0)
        return 2;
    if (cmd_engine_defaults(eo) != 0)
        return 2;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, &index)) != -1) {
        if (c == 1 && cmd_engine_option(eo, cmd, opts[index].name, optarg) < 0)
            return 2;
        if (c == 1 || c == 'C')
            continue;
        if (c == 'p' && patent_id)
            *patent_id = optarg;
        else if (c == 'p' || c == 'h' || c == '?') {
            fprintf(c == 'h' ? stdout : stderr, "%s%s", usage, cmd_engine_help);
            return c == 'h' ? 0 : 2;
        }
    }
    return -1;
}

int cmd_stats(int argc, char **argv)
{
    cmd_engine_opts eo;
    int status = engine_only_args(argc, argv, "stats",
                                  "usage: dinoseek stats [engine options]\n\nStatistics of a "
                                  "collection, as JSON.\n\n", &eo, NULL);
    if (status >= 0)
        return status;
    eng *e = cmd_open_engine(&eo, "stats");
    json_t *doc = NULL;
    ds_err err = {0};
    int rc = e && eng_stats(e, eo.cfg.collection, &doc, &err) == 0 ? 0 : 1;
    if (rc == 0)
        print_json(doc);
    else if (e)
        fprintf(stderr, "dinoseek stats: %s\n", err.msg);
    json_decref(doc);
    eng_close(e);
    return rc;
}

int cmd_add(int argc, char **argv)
{
    cmd_engine_opts eo;
    const char *patent_id = NULL;
    int status = engine_only_args(argc, argv, "add",
                                  "usage: dinoseek add IMAGE... [--patent-id ID] [engine options]\n"
                                  "\nAdd images to a collection (file name = the image's base "
                                  "name; already stored content is skipped).\n\n",
                                  &eo, &patent_id);
    if (status >= 0)
        return status;
    if (optind >= argc) {
        fprintf(stderr, "dinoseek add: name at least one image\n");
        return 2;
    }
    int first = optind;
    eng *e = cmd_open_engine(&eo, "add");
    if (!e)
        return 1;
    int failed = 0, added_total = 0;
    for (int i = first; i < argc; i++) {
        void *data;
        size_t len;
        ds_err err = {0};
        const char *base = strrchr(argv[i], '/') ? strrchr(argv[i], '/') + 1 : argv[i];
        eng_image_in in = {.file_name = base, .patent_id = patent_id, .image_index = i - first};
        int added = 0;
        if (!(data = ds_read_file(argv[i], &len))) {
            fprintf(stderr, "dinoseek add: cannot read %s\n", argv[i]);
            failed++;
            continue;
        }
        in.data = data;
        in.len = len;
        if (eng_add(e, eo.cfg.collection, &in, NULL, &added, &err) != 0) {
            fprintf(stderr, "dinoseek add: %s: %s\n", argv[i], err.msg);
            failed++;
        }
        added_total += added;
        free(data);
    }
    fprintf(stderr, "dinoseek add: %d added, %d already there, %d failed\n", added_total,
            argc - first - added_total - failed, failed);
    eng_close(e);
    return failed ? 1 : 0;
}
