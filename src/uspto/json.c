/* json.c - a grant as the seed system's JSON record (see uspto.h). */
#include <stdlib.h>
#include <string.h>

#include "uspto/uspto_internal.h"

/* A JSON string, or null for NULL. Text from libxml2 is UTF-8; a source
 * name comes from the command line and may not be, so bytes outside ASCII
 * become '?' when the whole is not valid UTF-8. */
static json_t *str(const char *s)
{
    if (!s)
        return json_null();
    json_t *j = json_string(s);
    if (j)
        return j;
    char *ascii = strdup(s);
    if (!ascii)
        return NULL;
    for (char *p = ascii; *p; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    j = json_string(ascii);
    free(ascii);
    return j;
}

/* Set key to value (stolen); returns 0, or -1 when value is NULL (no memory). */
static int put(json_t *o, const char *key, json_t *value)
{
    return value && json_object_set_new(o, key, value) == 0 ? 0 : -1;
}

json_t *us_grant_json(const us_grant *g, const char *source)
{
    json_t *o = json_object(), *figs = json_array();
    int bad = !o || !figs;
    for (int i = 0; !bad && i < g->n_figures; i++)
        bad = json_array_append_new(figs, str(g->figures[i])) != 0;
    if (bad) {
        json_decref(o);
        json_decref(figs);
        return NULL;
    }
    const struct {
        const char *key, *value;
    } strings[] = {
        {"patent_id", g->patent_id},
        {"kind", g->kind},
        {"type", us_type_name(g->type)},
        {"title", g->title},
        {"loc_class", g->loc_class},
        {"loc_edition", g->loc_edition},
        {"pub_date", g->pub_date},
        {"filing_date", g->filing_date},
    };
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
        bad |= put(o, strings[i].key, str(strings[i].value));
    bad |= put(o, "grant_term", g->grant_term > 0 ? json_integer(g->grant_term) : json_null());
    const struct {
        const char *key, *value;
    } more[] = {
        {"applicant_name", g->applicant_name},
        {"applicant_country", g->applicant_country},
        {"inventor_names", g->inventor_names},
        {"assignee_name", g->assignee_name},
        {"claim_text", g->claim_text},
    };
    for (size_t i = 0; i < sizeof more / sizeof more[0]; i++)
        bad |= put(o, more[i].key, str(more[i].value));
    bad |= put(o, "image_count", json_integer(g->n_figures));
    bad |= put(o, "figures", figs);
    if (source)
        bad |= put(o, "source", str(source));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}
